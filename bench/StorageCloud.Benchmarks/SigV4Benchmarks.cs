using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using StorageCloud.Proxy.S3;

namespace StorageCloud.Benchmarks;

/// <summary>Checking an S3 request's Signature V4 (parse the Authorization header, rebuild the canonical request, derive the key, compare).</summary>
[MemoryDiagnoser]
public class SigV4Benchmarks
{
    private const string Secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    private HttpRequest _request = null!;
    private SignedRequest _signed = null!;

    [GlobalSetup]
    public void Setup()
    {
        // Amazon's documented GET-object example: the signature is known to be right.
        var context = new DefaultHttpContext();
        context.Features.Get<IHttpRequestFeature>()!.RawTarget = "/test.txt";
        context.Request.Method = "GET";
        context.Request.Path = "/test.txt";
        context.Request.Host = new HostString("examplebucket.s3.amazonaws.com");
        context.Request.Headers.Authorization = "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41";
        context.Request.Headers.Range = "bytes=0-9";
        context.Request.Headers["x-amz-content-sha256"] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        context.Request.Headers["x-amz-date"] = "20130524T000000Z";
        _request = context.Request;
        _signed = SigV4.Parse(_request);
        if (!SigV4.Verify(_request, _signed, Secret)) throw new InvalidOperationException("the documented signature did not verify");
    }

    [Benchmark]
    public bool ParseAndVerify() => SigV4.Verify(_request, SigV4.Parse(_request), Secret);

    [Benchmark]
    public byte[] SigningKeyOnly() => SigV4.SigningKey(Secret, _signed.Scope);
}
