using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace StorageCloud.Proxy.Tests.S3;

/// <summary>Signature V2 (header and query), which older clients and some SDKs' presigned URLs use.</summary>
public sealed class SigV2Tests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private static string Sign(string secret, string stringToSign) =>
        Convert.ToBase64String(HMACSHA1.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(stringToSign)));

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string secret, DateTimeOffset date, byte[]? body = null, string contentType = "")
    {
        var dateText = date.ToString("r", CultureInfo.InvariantCulture);
        var request = new HttpRequestMessage(method, fixture.Host.BaseUrl + path);
        request.Headers.TryAddWithoutValidation("Date", dateText);
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body);
            if (contentType.Length > 0) request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }
        request.Headers.TryAddWithoutValidation("Authorization", $"AWS test:tester:{Sign(secret, $"{method.Method}\n\n{contentType}\n{dateText}\n{path}")}");
        return await fixture.Host.Client.SendAsync(request);
    }

    [Fact]
    public async Task Header_signatures_are_verified_and_checked_for_skew()
    {
        var bucket = "v2-" + Guid.NewGuid().ToString("N")[..10];
        using (var create = await SendAsync(HttpMethod.Put, "/" + bucket, "testing", DateTimeOffset.UtcNow)) Assert.Equal(HttpStatusCode.OK, create.StatusCode);
        using (var put = await SendAsync(HttpMethod.Put, $"/{bucket}/obj", "testing", DateTimeOffset.UtcNow, "v2 body"u8.ToArray(), "text/plain"))
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        using (var get = await SendAsync(HttpMethod.Get, $"/{bucket}/obj", "testing", DateTimeOffset.UtcNow))
            Assert.Equal("v2 body", await get.Content.ReadAsStringAsync());
        using (var wrong = await SendAsync(HttpMethod.Get, $"/{bucket}/obj", "not-the-key", DateTimeOffset.UtcNow))
            Assert.Equal("SignatureDoesNotMatch", await S3Client.ErrorCodeAsync(wrong));
        using (var old = await SendAsync(HttpMethod.Get, $"/{bucket}/obj", "testing", DateTimeOffset.UtcNow.AddHours(-1)))
            Assert.Equal("RequestTimeTooSkewed", await S3Client.ErrorCodeAsync(old));
    }

    [Fact]
    public async Task Query_signatures_work_until_they_expire()
    {
        var bucket = "v2q-" + Guid.NewGuid().ToString("N")[..10];
        using (var create = await SendAsync(HttpMethod.Put, "/" + bucket, "testing", DateTimeOffset.UtcNow)) Assert.Equal(HttpStatusCode.OK, create.StatusCode);
        using (var put = await SendAsync(HttpMethod.Put, $"/{bucket}/obj", "testing", DateTimeOffset.UtcNow, "shared"u8.ToArray())) Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        string Url(long expires) =>
            $"{fixture.Host.BaseUrl}/{bucket}/obj?AWSAccessKeyId=test%3Atester&Expires={expires}&Signature={Uri.EscapeDataString(Sign("testing", $"GET\n\n\n{expires}\n/{bucket}/obj"))}";
        using (var ok = await fixture.Host.Client.GetAsync(Url(DateTimeOffset.UtcNow.AddHours(2).ToUnixTimeSeconds())))
            Assert.Equal("shared", await ok.Content.ReadAsStringAsync());
        using (var expired = await fixture.Host.Client.GetAsync(Url(DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeSeconds())))
            Assert.Equal("AccessDenied", await S3Client.ErrorCodeAsync(expired));
    }
}
