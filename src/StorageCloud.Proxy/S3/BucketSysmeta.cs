namespace StorageCloud.Proxy.S3;

/// <summary>
/// A bucket configuration document kept in one container sysmeta header (CORS, lifecycle): written and cleared with
/// a Swift POST to the container as the caller, read with a HEAD, answered as the stored XML.
/// </summary>
public static class BucketSysmeta
{
    /// <summary>Stores <paramref name="value"/> ("" clears it) and answers <paramref name="status"/> with no body.</summary>
    public static async Task WriteAsync(S3Request r, string header, string value, int status)
    {
        var answer = await r.SwiftAsync("POST", r.SwiftPath(r.Bucket!), S3Request.Headers((header, value)));
        if (!answer.IsSuccess) throw S3Error.FromSwift(answer.Status, r.Bucket, null);
        r.Context.Response.StatusCode = status;
        if (status != 204) r.Context.Response.ContentLength = 0;
    }

    /// <summary>The stored value, or null when the bucket has none.</summary>
    public static async Task<string?> ReadAsync(S3Request r, string header)
    {
        var head = await r.SwiftAsync("HEAD", r.SwiftPath(r.Bucket!));
        if (!head.IsSuccess) throw S3Error.FromSwift(head.Status, r.Bucket, null);
        return head.Header(header) is { Length: > 0 } stored ? stored : null;
    }

    /// <summary>Answers 200 with an XML document.</summary>
    public static async Task AnswerXmlAsync(S3Request r, byte[] document)
    {
        r.Context.Response.StatusCode = 200;
        r.Context.Response.ContentType = "application/xml";
        r.Context.Response.ContentLength = document.Length;
        await r.Context.Response.Body.WriteAsync(document, r.Context.RequestAborted);
    }
}
