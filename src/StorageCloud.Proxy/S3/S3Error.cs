using System.Security;
using System.Text;
using Microsoft.AspNetCore.Http;
using StorageCloud.Common.Http;
using StorageCloud.Service.Http;

namespace StorageCloud.Proxy.S3;

/// <summary>An S3 error: its code, HTTP status and message, answered as S3's XML error document.</summary>
public sealed class S3Error(string code, int status, string message) : Exception(message)
{
    /// <summary>S3's error code (AccessDenied, SignatureDoesNotMatch...).</summary>
    public string Code { get; } = code;

    /// <summary>The HTTP status that goes with the code.</summary>
    public int Status { get; } = status;

    public static S3Error AccessDenied(string message = "Access Denied.") => new("AccessDenied", 403, message);
    public static S3Error InvalidAccessKeyId() => new("InvalidAccessKeyId", 403, "The AWS Access Key Id you provided does not exist in our records.");
    public static S3Error SignatureDoesNotMatch() => new("SignatureDoesNotMatch", 403,
        "The request signature we calculated does not match the signature you provided. Check your key and signing method.");
    public static S3Error RequestTimeTooSkewed() => new("RequestTimeTooSkewed", 403, "The difference between the request time and the current time is too large.");
    public static S3Error AuthorizationHeaderMalformed(string detail) => new("AuthorizationHeaderMalformed", 400, $"The authorization header is malformed; {detail}");
    public static S3Error AuthorizationQueryParametersError(string detail) => new("AuthorizationQueryParametersError", 400, detail);
    public static S3Error NotImplemented() => new("NotImplemented", 501, "A header or query you provided implies functionality that is not implemented.");
    public static S3Error InternalError() => new("InternalError", 500, "We encountered an internal error. Please try again.");
    public static S3Error NoSuchBucket(string bucket) => new("NoSuchBucket", 404, "The specified bucket does not exist.") { Extra = [("BucketName", bucket)] };
    public static S3Error NoSuchKey(string key) => new("NoSuchKey", 404, "The specified key does not exist.") { Extra = [("Key", key)] };
    public static S3Error NoSuchUpload(string id) => new("NoSuchUpload", 404,
        "The specified multipart upload does not exist. The upload ID might be invalid, or the multipart upload might have been aborted or completed.") { Extra = [("UploadId", id)] };
    public static S3Error InvalidArgument(string message, string? name = null, string? value = null) =>
        new("InvalidArgument", 400, message) { Extra = name is null ? [] : [("ArgumentName", name), ("ArgumentValue", value ?? "")] };
    public static S3Error MalformedXml() => new("MalformedXML", 400, "The XML you provided was not well-formed or did not validate against our published schema.");
    public static S3Error InvalidBucketName(string bucket) => new("InvalidBucketName", 400, "The specified bucket is not valid.") { Extra = [("BucketName", bucket)] };

    /// <summary>More elements of the error document (BucketName, Key...).</summary>
    public IReadOnlyList<(string Name, string Value)> Extra { get; init; } = [];

    /// <summary>The S3 error for a Swift sub-request's failure status.</summary>
    public static S3Error FromSwift(int status, string? bucket, string? key) => status switch
    {
        401 or 403 => AccessDenied(),
        404 when key is not null => NoSuchKey(key),
        404 => NoSuchBucket(bucket ?? ""),
        411 => new("MissingContentLength", 411, "You must provide the Content-Length HTTP header."),
        412 => new("PreconditionFailed", 412, "At least one of the preconditions you specified did not hold."),
        413 => new("EntityTooLarge", 400, "Your proposed upload exceeds the maximum allowed object size."),
        416 => new("InvalidRange", 416, "The requested range is not satisfiable"),
        422 => new("BadDigest", 400, "The Content-MD5 you specified did not match what we received."),
        408 or 499 => new("RequestTimeout", 400, "Your socket connection to the server was not read from or written to within the timeout period."),
        503 or 507 => new("ServiceUnavailable", 503, "Please reduce your request rate."),
        _ => InternalError(),
    };

    private string ExtraXml()
    {
        var sb = new StringBuilder();
        foreach (var (name, value) in Extra) sb.Append('<').Append(name).Append('>').Append(SecurityElement.Escape(value)).Append("</").Append(name).Append('>');
        return sb.ToString();
    }

    /// <summary>Writes the error document (headers only for HEAD), with the request id headers.</summary>
    public async Task WriteAsync(HttpContext context)
    {
        var requestId = TransactionIdMiddleware.Of(context) ?? "";
        var response = context.Response;
        response.StatusCode = Status;
        response.ContentType = "application/xml";
        // Refused before its body was asked for (no 100 Continue sent): the client may or may not send the body now, so
        // the connection cannot be trusted for another request.
        if (context.Request.Headers.Expect.ToString().Contains("100-continue", StringComparison.OrdinalIgnoreCase) && !response.HasStarted)
            response.Headers.Connection = "close";
        var xml = $"""<?xml version="1.0" encoding="UTF-8"?>{"\n"}<Error><Code>{Code}</Code><Message>{SecurityElement.Escape(Message)}</Message><Resource>{SecurityElement.Escape(context.Request.Path.Value)}</Resource>{ExtraXml()}<RequestId>{requestId}</RequestId></Error>""";
        var bytes = Encoding.UTF8.GetBytes(xml);
        response.ContentLength = bytes.Length;
        if (!HttpMethods.IsHead(context.Request.Method)) await response.Body.WriteAsync(bytes, context.RequestAborted);
    }
}
