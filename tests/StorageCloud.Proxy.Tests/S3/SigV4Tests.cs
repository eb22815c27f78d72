using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using StorageCloud.Proxy.S3;

namespace StorageCloud.Proxy.Tests.S3;

/// <summary>Signature V4 against the worked examples of Amazon's S3 SigV4 documentation.</summary>
public sealed class SigV4Tests
{
    private const string Secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    private static HttpRequest Request(string method, string rawTarget, params (string Name, string Value)[] headers)
    {
        var context = new DefaultHttpContext();
        var q = rawTarget.IndexOf('?');
        context.Features.Get<IHttpRequestFeature>()!.RawTarget = rawTarget;
        context.Request.Method = method;
        context.Request.Path = q < 0 ? rawTarget : rawTarget[..q];
        context.Request.QueryString = new QueryString(q < 0 ? "" : rawTarget[q..]);
        context.Request.Host = new HostString("examplebucket.s3.amazonaws.com");
        foreach (var (name, value) in headers) context.Request.Headers[name] = value;
        return context.Request;
    }

    [Fact]
    public void The_documented_GET_object_example_verifies_and_a_changed_header_does_not()
    {
        var request = Request("GET", "/test.txt",
            ("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"),
            ("Range", "bytes=0-9"),
            ("x-amz-content-sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            ("x-amz-date", "20130524T000000Z"));
        var signed = SigV4.Parse(request);
        Assert.Equal("AKIAIOSFODNN7EXAMPLE", signed.AccessKey);
        Assert.Equal("20130524/us-east-1/s3/aws4_request", signed.Scope);
        Assert.True(SigV4.Verify(request, signed, Secret));
        Assert.False(SigV4.Verify(request, signed, Secret + "x"));
        request.Headers.Range = "bytes=0-10";
        Assert.False(SigV4.Verify(request, signed, Secret));
    }

    [Fact]
    public void The_documented_presigned_URL_example_verifies()
    {
        var request = Request("GET",
            "/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
        var signed = SigV4.Parse(request);
        Assert.True(signed.Presigned);
        Assert.Equal(TimeSpan.FromDays(1), signed.Expires);
        Assert.True(SigV4.Verify(request, signed, Secret));
    }

    [Fact]
    public void Malformed_signatures_get_S3s_error_codes()
    {
        var noPayloadHash = Request("GET", "/", ("Authorization", "AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3/aws4_request,SignedHeaders=host,Signature=" + new string('0', 64)),
            ("x-amz-date", "20130524T000000Z"));
        Assert.Equal("MissingSecurityHeader", Assert.Throws<S3Error>(() => SigV4.Parse(noPayloadHash)).Code);
        var badCredential = Request("GET", "/", ("Authorization", "AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1,SignedHeaders=host,Signature=x"),
            ("x-amz-date", "20130524T000000Z"), ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"));
        Assert.Equal("AuthorizationHeaderMalformed", Assert.Throws<S3Error>(() => SigV4.Parse(badCredential)).Code);
        var tooLong = Request("GET", "/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AK%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=604801&X-Amz-SignedHeaders=host&X-Amz-Signature=" + new string('0', 64));
        var error = Assert.Throws<S3Error>(() => SigV4.Parse(tooLong));
        Assert.Equal("AuthorizationQueryParametersError", error.Code);
        Assert.Equal(400, error.Status);
    }

    [Fact]
    public void Encoding_follows_AWS_rules()
    {
        Assert.Equal("a%20b~c-d_e.f%2F%2B%C3%A9", SigV4.Encode("a b~c-d_e.f/+é"));
    }
}
