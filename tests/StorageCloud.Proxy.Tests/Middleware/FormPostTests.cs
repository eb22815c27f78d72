using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace StorageCloud.Proxy.Tests.Middleware;

public sealed class FormPostTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private ClusterHost Host => fixture.Host;

    private static string Sign(string key, string path, string redirect, long maxSize, int maxCount, long expires)
        => Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes($"{path}\n{redirect}\n{maxSize}\n{maxCount}\n{expires}")));

    private static MultipartFormDataContent Form(string redirect, long maxSize, int maxCount, long expires, string signature, params (string Name, string Text)[] files)
    {
        var form = new MultipartFormDataContent("----boundary" + Guid.NewGuid().ToString("N"));
        form.Add(new StringContent(redirect), "redirect");
        form.Add(new StringContent(maxSize.ToString()), "max_file_size");
        form.Add(new StringContent(maxCount.ToString()), "max_file_count");
        form.Add(new StringContent(expires.ToString()), "expires");
        form.Add(new StringContent(signature), "signature");
        foreach (var (name, text) in files)
        {
            var file = new ByteArrayContent(Encoding.UTF8.GetBytes(text));
            file.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("text/plain");
            form.Add(file, "file" + name, name);
        }
        return form;
    }

    [Fact]
    public async Task Signed_forms_upload_files_and_redirect_unsigned_ones_are_refused()
    {
        var c = await fixture.NewContainerAsync(("X-Container-Meta-Temp-URL-Key", "formkey"));
        var path = c + "/uploads/";
        var expires = DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 600;
        var sig = Sign("formkey", path, "", 1024, 2, expires);
        using (var r = await Host.Client.PostAsync(path, Form("", 1024, 2, expires, sig, ("a.txt", "alpha"), ("b.txt", "bravo"))))
        {
            var text = await r.Content.ReadAsStringAsync();
            Assert.True(r.StatusCode == HttpStatusCode.Created, text);
            Assert.Equal("201 Created", text);
        }
        using (var a = await Host.SendAsync(HttpMethod.Get, c + "/uploads/a.txt", fixture.Token))
        {
            Assert.Equal("alpha", await a.Content.ReadAsStringAsync());
            Assert.Equal("text/plain", a.Content.Headers.ContentType!.MediaType);
        }
        using (var b = await Host.SendAsync(HttpMethod.Get, c + "/uploads/b.txt", fixture.Token)) Assert.Equal("bravo", await b.Content.ReadAsStringAsync());

        var redirectSig = Sign("formkey", path, "https://example.com/done", 1024, 1, expires);
        using (var r = await Host.Client.PostAsync(path, Form("https://example.com/done", 1024, 1, expires, redirectSig, ("c.txt", "c"))))
        {
            Assert.Equal(HttpStatusCode.SeeOther, r.StatusCode);
            Assert.Equal("https://example.com/done?status=201&message=", r.Headers.Location!.OriginalString);
        }
        using (var r = await Host.Client.PostAsync(path, Form("", 1024, 1, expires, redirectSig, ("d.txt", "d"))))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
            Assert.Equal("FormPost: Invalid Signature", await r.Content.ReadAsStringAsync());
        }
        var past = DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 5;
        using (var r = await Host.Client.PostAsync(path, Form("", 1024, 1, past, Sign("formkey", path, "", 1024, 1, past), ("e.txt", "e"))))
            Assert.Equal("FormPost: Form Expired", await r.Content.ReadAsStringAsync());
        using (var r = await Host.Client.PostAsync(path, Form("", 4, 1, expires, Sign("formkey", path, "", 4, 1, expires), ("big.txt", "too large for four"))))
        {
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            Assert.Equal("FormPost: max_file_size exceeded", await r.Content.ReadAsStringAsync());
        }
        using (var big = await Host.SendAsync(HttpMethod.Head, c + "/uploads/big.txt", fixture.Token)) Assert.Equal(HttpStatusCode.NotFound, big.StatusCode);
        using (var r = await Host.Client.PostAsync(path, Form("", 1024, 1, expires, Sign("formkey", path, "", 1024, 1, expires), ("f.txt", "f"), ("g.txt", "g"))))
            Assert.Equal("400 Bad Request\r\nFormPost: Max File Count Exceeded", await r.Content.ReadAsStringAsync());
    }
}
