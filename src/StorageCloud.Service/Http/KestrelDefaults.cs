using System.Text;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace StorageCloud.Service.Http;

/// <summary>The Kestrel settings every StorageCloud listener shares (the appliance's and the tests' in-process servers).</summary>
public static class KestrelDefaults
{
    /// <summary>
    /// No Server header; no body size limit (each API sets its own); header values read and written as UTF-8, as
    /// Swift's are: metadata may hold any Unicode text, and an ASCII-only writer would fail (a 500) on reading back a
    /// value a client was allowed to store. Header bytes that are not UTF-8 are refused with 400 on the way in.
    /// </summary>
    public static void Apply(KestrelServerOptions k)
    {
        k.AddServerHeader = false;
        k.Limits.MaxRequestBodySize = null;
        // Swift's own limits (90 metadata items of up to 4 KiB in all) must be the ones a client meets, answered
        // with Swift's 400, not Kestrel's 431 at 100 headers; the headers' total size stays bounded by Kestrel's 32 KiB.
        k.Limits.MaxRequestHeaderCount = 256;
        k.RequestHeaderEncodingSelector = _ => StrictUtf8;
        k.ResponseHeaderEncodingSelector = _ => StrictUtf8;
    }

    private static readonly Encoding StrictUtf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
}
