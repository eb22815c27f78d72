using System.Security;
using System.Text;
using Microsoft.AspNetCore.Http;
using StorageCloud.Common.Http;

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

    /// <summary>Writes the error document (headers only for HEAD), with the request id headers.</summary>
    public async Task WriteAsync(HttpContext context)
    {
        var requestId = TransactionIdMiddleware.Of(context) ?? "";
        var response = context.Response;
        response.StatusCode = Status;
        response.ContentType = "application/xml";
        var xml = $"""<?xml version="1.0" encoding="UTF-8"?>{"\n"}<Error><Code>{Code}</Code><Message>{SecurityElement.Escape(Message)}</Message><Resource>{SecurityElement.Escape(context.Request.Path.Value)}</Resource><RequestId>{requestId}</RequestId></Error>""";
        var bytes = Encoding.UTF8.GetBytes(xml);
        response.ContentLength = bytes.Length;
        if (!HttpMethods.IsHead(context.Request.Method)) await response.Body.WriteAsync(bytes, context.RequestAborted);
    }
}
