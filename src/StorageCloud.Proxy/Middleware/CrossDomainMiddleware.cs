using System.Text;
using Microsoft.AspNetCore.Http;

namespace StorageCloud.Proxy.Middleware;

/// <summary>
/// Swift's crossdomain: GET /crossdomain.xml answers, without authentication, the cross-domain policy that lets
/// Flash, Java and Silverlight clients served from other sites call the API (Proxy:CrossDomainPolicy).
/// </summary>
public sealed class CrossDomainMiddleware(RequestDelegate next, ProxyOptions options)
{
    private readonly byte[] _document = Encoding.UTF8.GetBytes(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE cross-domain-policy SYSTEM \"http://www.adobe.com/xml/dtds/cross-domain-policy.dtd\" >\n"
        + "<cross-domain-policy>\n" + options.CrossDomainPolicy + "\n</cross-domain-policy>");

    /// <summary>Answers GET /crossdomain.xml; everything else passes on.</summary>
    public Task InvokeAsync(HttpContext context)
    {
        if (!HttpMethods.IsGet(context.Request.Method) || context.Request.Path.Value != "/crossdomain.xml") return next(context);
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/xml";
        context.Response.ContentLength = _document.Length;
        return context.Response.Body.WriteAsync(_document, context.RequestAborted).AsTask();
    }
}
