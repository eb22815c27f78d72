using Microsoft.Playwright;

namespace StorageCloud.Host.Tests;

/// <summary>
/// The dashboard in a real browser: Playwright (Microsoft.Playwright, run by Debian's nodejs) driving Debian's
/// chromium through the seeds' first flows: log in, the overview, make a container, upload a file (the form with its
/// progress bar) and download it, make a volume, log out. Screenshots of each page are kept in
/// TestResults/dashboard-screenshots.
/// </summary>
public sealed class DashboardBrowserTests(CloudFixture cloud) : IClassFixture<CloudFixture>
{
    private static string Screenshots()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "StorageCloud.sln"))) root = root.Parent;
        var directory = Path.Combine(root!.FullName, "TestResults", "dashboard-screenshots");
        Directory.CreateDirectory(directory);
        return directory;
    }

    /// <summary>
    /// Waits for the page to be at a URL with its heading shown. Polls the URL rather than waiting for a navigation's
    /// load event: a form's POST and redirect may have finished before the wait starts, and then no event comes.
    /// </summary>
    private static async Task ExpectUrlAsync(IPage page, string url)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (page.Url != url && DateTime.UtcNow < deadline) await Task.Delay(100);
        if (page.Url != url) throw new Xunit.Sdk.XunitException($"expected {url}, the page is at {page.Url}: {await page.ContentAsync()}");
        await page.Locator("main h1").WaitForAsync(new LocatorWaitForOptions { Timeout = 30_000 });
    }

    /// <summary>Clicks what a locator finds once it is there; when it never comes, the failure shows the page.</summary>
    private static async Task ClickAsync(IPage page, ILocator locator)
    {
        try
        {
            await locator.ClickAsync(new LocatorClickOptions { Timeout = 30_000 });
        }
        catch (TimeoutException)
        {
            throw new Xunit.Sdk.XunitException($"not found on {page.Url}: {locator}; the page shows: {await page.InnerTextAsync("body")}");
        }
    }

    [Fact]
    public async Task A_user_logs_in_uploads_downloads_makes_a_volume_and_logs_out_in_chromium()
    {
        Assert.True(File.Exists("/usr/bin/chromium"), "chromium is missing: deploy/test.sh installs Debian's chromium");
        Assert.True(File.Exists("/usr/bin/node"), "node is missing: deploy/test.sh installs Debian's nodejs (Playwright's driver runs on it)");
        Environment.SetEnvironmentVariable("PLAYWRIGHT_NODEJS_PATH", "/usr/bin/node");
        var shots = Screenshots();
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium", Headless = true, Args = ["--no-sandbox", "--disable-gpu"],
        });
        var context = await browser.NewContextAsync(new BrowserNewContextOptions { AcceptDownloads = true, ViewportSize = new ViewportSize { Width = 390, Height = 844 } });
        var page = await context.NewPageAsync();

        await page.GotoAsync(cloud.DashboardUrl + "/");
        Assert.EndsWith("/login", page.Url);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(shots, "1-login.png"), FullPage = true });
        await page.GetByLabel("User name").FillAsync("cinder-a-user");
        await page.GetByLabel("Password").FillAsync("pw-cinder-a");
        await page.GetByLabel("Project (optional)").FillAsync("cinder-a");
        await page.GetByRole(AriaRole.Button, new() { Name = "Log in" }).ClickAsync();
        await ExpectUrlAsync(page, cloud.DashboardUrl + "/");
        Assert.Equal("Overview - StorageCloud", await page.TitleAsync());
        Assert.True(await page.Locator("meter").CountAsync() >= 3);
        // The session cookie is HttpOnly: the page's script cannot read it.
        Assert.DoesNotContain("sc_session", await page.EvaluateAsync<string>("document.cookie"));
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(shots, "2-overview.png"), FullPage = true });

        await page.GetByRole(AriaRole.Link, new() { Name = "Containers" }).ClickAsync();
        await page.GetByLabel("New container").FillAsync("photos");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create", Exact = true }).ClickAsync();
        await ExpectUrlAsync(page, cloud.DashboardUrl + "/containers/photos");
        var file = Path.Combine(Path.GetTempPath(), $"dashboard-{Guid.NewGuid():N}.bin");
        var data = new byte[2 << 20];
        Random.Shared.NextBytes(data);
        await File.WriteAllBytesAsync(file, data);
        try
        {
            await page.GetByLabel("Upload a file").SetInputFilesAsync(file);
            await page.GetByRole(AriaRole.Button, new() { Name = "Upload", Exact = true }).ClickAsync();
            var link = page.GetByRole(AriaRole.Link, new() { Name = Path.GetFileName(file) });
            await link.WaitForAsync(new LocatorWaitForOptions { Timeout = 30_000 });
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(shots, "3-container.png"), FullPage = true });
            var download = await page.RunAndWaitForDownloadAsync(() => link.ClickAsync());
            var saved = Path.Combine(Path.GetTempPath(), $"downloaded-{Guid.NewGuid():N}");
            await download.SaveAsAsync(saved);
            Assert.Equal(data, await File.ReadAllBytesAsync(saved));
            File.Delete(saved);
        }
        finally
        {
            File.Delete(file);
        }

        await page.GetByRole(AriaRole.Link, new() { Name = "Volumes" }).ClickAsync();
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("browser-volume");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create volume" }).ClickAsync();
        await page.GetByRole(AriaRole.Cell, new() { Name = "browser-volume" }).WaitForAsync();
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(shots, "4-volumes.png"), FullPage = true });

        await page.GetByRole(AriaRole.Button, new() { Name = "Log out cinder-a-user" }).ClickAsync();
        await ExpectUrlAsync(page, cloud.DashboardUrl + "/login");
        await page.GotoAsync(cloud.DashboardUrl + "/containers");
        Assert.EndsWith("/login", page.Url);
    }
}
