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
            var link = page.GetByRole(AriaRole.Link, new() { Name = Path.GetFileName(file), Exact = true });
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
        await page.GetByRole(AriaRole.Cell, new() { Name = "browser-volume", Exact = true }).WaitForAsync();
        await ReloadUntilAsync(page, page.GetByRole(AriaRole.Row).Filter(new() { HasText = "browser-volume" }).Filter(new() { HasText = "available" }));
        await ClickAsync(page, page.GetByRole(AriaRole.Button, new() { Name = "Snapshot browser-volume" }));
        await page.GetByRole(AriaRole.Cell, new() { Name = "browser-volume-snapshot", Exact = true }).WaitForAsync();
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(shots, "4-volumes.png"), FullPage = true });

        await page.GetByRole(AriaRole.Button, new() { Name = "Log out cinder-a-user" }).ClickAsync();
        await ExpectUrlAsync(page, cloud.DashboardUrl + "/login");
        await page.GotoAsync(cloud.DashboardUrl + "/containers");
        Assert.EndsWith("/login", page.Url);
    }

    private static async Task<(IBrowserContext Context, IPage Page)> LogInAsync(IBrowser browser, string url, string user, string password, string project)
    {
        var context = await browser.NewContextAsync(new BrowserNewContextOptions { AcceptDownloads = true, ViewportSize = new ViewportSize { Width = 390, Height = 844 } });
        var page = await context.NewPageAsync();
        await page.GotoAsync(url + "/login");
        await page.GetByLabel("User name").FillAsync(user);
        await page.GetByLabel("Password").FillAsync(password);
        await page.GetByLabel("Project (optional)").FillAsync(project);
        await page.GetByRole(AriaRole.Button, new() { Name = "Log in" }).ClickAsync();
        await ExpectUrlAsync(page, url + "/");
        return (context, page);
    }

    private static async Task<IBrowser> ChromiumAsync(IPlaywright playwright)
    {
        Assert.True(File.Exists("/usr/bin/chromium"), "chromium is missing: deploy/test.sh installs Debian's chromium");
        return await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium", Headless = true, Args = ["--no-sandbox", "--disable-gpu"],
        });
    }

    /// <summary>Reloads a page until a locator shows (a build or an upload finishing), failing with the page's text.</summary>
    private static async Task ReloadUntilAsync(IPage page, ILocator locator)
    {
        for (var i = 0; i < 60 && await locator.CountAsync() == 0; i++)
        {
            await Task.Delay(500);
            await page.ReloadAsync();
        }
        if (await locator.CountAsync() == 0) throw new Xunit.Sdk.XunitException($"not shown on {page.Url}: {locator}; the page shows: {await page.InnerTextAsync("body")}");
    }

    [Fact]
    public async Task A_volume_is_transferred_an_image_uploaded_an_instance_launched_and_given_a_floating_ip_in_chromium()
    {
        Assert.True(File.Exists("/usr/bin/node"), "node is missing: deploy/test.sh installs Debian's nodejs (Playwright's driver runs on it)");
        Environment.SetEnvironmentVariable("PLAYWRIGHT_NODEJS_PATH", "/usr/bin/node");
        var shots = Screenshots();
        var (_, external) = await cloud.SendToAsync(cloud.NetworkUrl, HttpMethod.Post, "/v2.0/networks", cloud.Admin.Token,
            new System.Text.Json.Nodes.JsonObject { ["network"] = new System.Text.Json.Nodes.JsonObject { ["name"] = "browser-public", ["router:external"] = true } });
        await cloud.SendToAsync(cloud.NetworkUrl, HttpMethod.Post, "/v2.0/subnets", cloud.Admin.Token, new System.Text.Json.Nodes.JsonObject
        {
            ["subnet"] = new System.Text.Json.Nodes.JsonObject { ["network_id"] = external!["network"]!["id"]!.GetValue<string>(), ["cidr"] = "172.29.5.0/24", ["ip_version"] = 4 },
        });
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await ChromiumAsync(playwright);
        var url = cloud.DashboardUrl;
        var (contextA, a) = await LogInAsync(browser, url, "cinder-a-user", "pw-cinder-a", "cinder-a");
        var (contextB, b) = await LogInAsync(browser, url, "cinder-b-user", "pw-cinder-b", "cinder-b");

        // A offers a volume; the id and key are shown once; B accepts it on its own volumes page.
        await ClickAsync(a, a.GetByRole(AriaRole.Link, new() { Name = "Volumes" }));
        await a.GetByLabel("Name", new() { Exact = true }).FillAsync("gift");
        await ClickAsync(a, a.GetByRole(AriaRole.Button, new() { Name = "Create volume" }));
        await ReloadUntilAsync(a, a.GetByRole(AriaRole.Row).Filter(new() { HasText = "available" }).Filter(new() { HasText = "gift" }));
        await ClickAsync(a, a.GetByRole(AriaRole.Button, new() { Name = "Transfer gift" }));
        await a.Locator("#auth-key").WaitForAsync();
        var transferId = await a.Locator("#transfer-id").InnerTextAsync();
        var key = await a.Locator("#auth-key").InnerTextAsync();
        await a.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(shots, "5-volume-transfer.png"), FullPage = true });
        await ClickAsync(b, b.GetByRole(AriaRole.Link, new() { Name = "Volumes" }));
        await b.GetByLabel("Transfer id").FillAsync(transferId);
        await b.GetByLabel("Authorization key").FillAsync(key);
        await ClickAsync(b, b.GetByRole(AriaRole.Button, new() { Name = "Accept transfer" }));
        await ExpectUrlAsync(b, url + "/volumes");
        await b.GetByRole(AriaRole.Cell, new() { Name = "gift", Exact = true }).WaitForAsync();
        await b.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(shots, "6-transfer-accepted.png"), FullPage = true });
        await a.GotoAsync(url + "/volumes");
        Assert.Equal(0, await a.GetByRole(AriaRole.Cell, new() { Name = "gift", Exact = true }).CountAsync());

        // A uploads an image through the form (its progress bar fills as the file goes).
        var file = Path.Combine(Path.GetTempPath(), $"browser-image-{Guid.NewGuid():N}.img");
        await File.WriteAllBytesAsync(file, new byte[1 << 20]);
        try
        {
            await ClickAsync(a, a.GetByRole(AriaRole.Link, new() { Name = "Images" }));
            await a.GetByLabel("Image name").FillAsync("browser-image");
            await a.GetByLabel("Disk format").SelectOptionAsync("raw");
            await a.GetByLabel("Image file").SetInputFilesAsync(file);
            await ClickAsync(a, a.GetByRole(AriaRole.Button, new() { Name = "Upload image" }));
            await ReloadUntilAsync(a, a.GetByRole(AriaRole.Row).Filter(new() { HasText = "browser-image" }).Filter(new() { HasText = "active" }));
            await a.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(shots, "7-images.png"), FullPage = true });
        }
        finally
        {
            File.Delete(file);
        }

        // A network routed out, an instance on it from the image, a floating IP for it.
        await ClickAsync(a, a.GetByRole(AriaRole.Link, new() { Name = "Networks" }));
        await a.GetByLabel("Network name").FillAsync("browser-net");
        await a.GetByLabel("Subnet CIDR").FillAsync("10.66.0.0/24");
        await a.GetByLabel("Route to the external network (for floating IPs)").CheckAsync();
        await ClickAsync(a, a.GetByRole(AriaRole.Button, new() { Name = "Create network" }));
        await a.GetByRole(AriaRole.Cell, new() { Name = "10.66.0.0/24" }).WaitForAsync();
        await a.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(shots, "8-networks.png"), FullPage = true });
        await ClickAsync(a, a.GetByRole(AriaRole.Link, new() { Name = "Instances" }));
        await a.GetByLabel("Name", new() { Exact = true }).FillAsync("browser-vm");
        await a.GetByLabel("Image", new() { Exact = true }).SelectOptionAsync(new SelectOptionValue { Label = "browser-image" });
        await a.GetByLabel("Network", new() { Exact = true }).SelectOptionAsync(new SelectOptionValue { Label = "browser-net" });
        await ClickAsync(a, a.GetByRole(AriaRole.Button, new() { Name = "Launch" }));
        await ReloadUntilAsync(a, a.GetByRole(AriaRole.Row).Filter(new() { HasText = "browser-vm" }).Filter(new() { HasText = "ACTIVE" }));
        await a.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(shots, "9-instances.png"), FullPage = true });
        await ClickAsync(a, a.GetByRole(AriaRole.Link, new() { Name = "Floating IPs" }));
        await a.GetByLabel("Pool (external network)").SelectOptionAsync(new SelectOptionValue { Label = "browser-public" });
        await ClickAsync(a, a.GetByRole(AriaRole.Button, new() { Name = "Allocate IP" }));
        var associate = a.GetByRole(AriaRole.Button, new() { Name = "Associate 172.29.5.", Exact = false });
        await associate.WaitForAsync();
        await ClickAsync(a, associate);
        await a.GetByRole(AriaRole.Cell).Filter(new() { HasTextRegex = new System.Text.RegularExpressions.Regex("^browser-vm: 10\\.66\\.0\\.") }).WaitForAsync();
        await a.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(shots, "10-floating-ips.png"), FullPage = true });
        await ClickAsync(a, a.GetByRole(AriaRole.Link, new() { Name = "Instances" }));
        await ReloadUntilAsync(a, a.GetByRole(AriaRole.Cell).Filter(new() { HasText = "172.29.5." }));

        // The other pages, for the record; and B sees none of A's things.
        foreach (var (link, shot) in new[] { ("Security groups", "11-security-groups.png"), ("Key pairs", "12-key-pairs.png"), ("Overview", "13-overview-after.png") })
        {
            await ClickAsync(a, a.GetByRole(AriaRole.Link, new() { Name = link, Exact = true }));
            await a.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(shots, shot), FullPage = true });
        }
        foreach (var path in new[] { "/instances", "/floating-ips", "/networks", "/images" })
        {
            await b.GotoAsync(url + path);
            var text = await b.InnerTextAsync("main");
            Assert.DoesNotContain("browser-vm", text);
            Assert.DoesNotContain("172.29.5.", text);
            Assert.DoesNotContain("browser-net", text);
            Assert.DoesNotContain("browser-image", text);
        }

        // An administrator's cluster pages: charts of the rings and of recon.
        var password = (await File.ReadAllTextAsync(Path.Combine(cloud.DataDir, "identity", "admin-password"))).Trim();
        var (contextAdmin, admin) = await LogInAsync(browser, url, "admin", password, "admin");
        await ClickAsync(admin, admin.GetByRole(AriaRole.Link, new() { Name = "Cluster" }));
        Assert.True(await admin.Locator("svg rect").CountAsync() > 0);
        await admin.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(shots, "14-cluster-rings.png"), FullPage = true });
        await ClickAsync(admin, admin.GetByRole(AriaRole.Link, new() { Name = "Recon" }));
        await admin.GetByText("Disk usage per device").WaitForAsync();
        await admin.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(shots, "15-cluster-recon.png"), FullPage = true });

        await ClickAsync(a, a.GetByRole(AriaRole.Button, new() { Name = "Log out cinder-a-user" }));
        await ExpectUrlAsync(a, url + "/login");
        foreach (var context in new[] { contextA, contextB, contextAdmin }) await context.CloseAsync();
    }
}
