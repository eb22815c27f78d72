using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace StorageCloud.Proxy.S3;

/// <summary>
/// Opens an upload's body as x-amz-content-sha256 says it was sent: a hex SHA-256 (checked as it streams),
/// UNSIGNED-PAYLOAD, or aws-chunked with signed chunks (STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]) or unsigned
/// ones with trailers (STREAMING-UNSIGNED-PAYLOAD-TRAILER).
/// </summary>
public static class Payload
{
    /// <summary>The body to store, its length, and the S3 error it earned (known once it has been read).</summary>
    public static (Stream Body, long Length, Func<S3Error?> Failure) Open(S3Request r)
    {
        var request = r.Context.Request;
        var hash = r.Signed.PayloadHash;
        byte[]? checksum = null;
        if (request.Headers["x-amz-checksum-sha256"].ToString() is { Length: > 0 } sent)
        {
            try
            {
                checksum = Convert.FromBase64String(sent);
            }
            catch (FormatException)
            {
                throw new S3Error("InvalidRequest", 400, "Value for x-amz-checksum-sha256 header is invalid.");
            }
        }
        uint? crc32C = null;
        if (request.Headers["x-amz-checksum-crc32c"].ToString() is { Length: > 0 } crcText)
        {
            try
            {
                var bytes = Convert.FromBase64String(crcText);
                if (bytes.Length != 4) throw new FormatException();
                crc32C = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes);
            }
            catch (FormatException)
            {
                throw new S3Error("InvalidRequest", 400, "Value for x-amz-checksum-crc32c header is invalid.");
            }
        }
        if (hash.StartsWith("STREAMING-", StringComparison.Ordinal))
        {
            var signing = hash switch
            {
                "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" or "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER" =>
                    new ChunkSigning(r.SigningKey, r.Signed.Time.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture), r.Signed.Scope, r.Signed.Signature.ToLowerInvariant()),
                "STREAMING-UNSIGNED-PAYLOAD-TRAILER" => null,
                _ => throw InvalidHash(),
            };
            if (!long.TryParse(request.Headers["x-amz-decoded-content-length"].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var decoded))
                throw new S3Error("MissingContentLength", 411, "You must provide the Content-Length HTTP header.");
            var chunked = new AwsChunkedStream(request.Body, decoded, signing);
            Stream body = checksum is null && crc32C is null ? chunked : new VerifyingStream(chunked, decoded, null, checksum, crc32C);
            return (body, decoded, () => chunked.Failure ?? (body as VerifyingStream)?.Failure);
        }
        var length = request.ContentLength ?? throw new S3Error("MissingContentLength", 411, "You must provide the Content-Length HTTP header.");
        byte[]? payload = null;
        if (hash != "UNSIGNED-PAYLOAD")
        {
            if (hash.Length != 64) throw InvalidHash();
            try
            {
                payload = Convert.FromHexString(hash);
            }
            catch (FormatException)
            {
                throw InvalidHash();
            }
        }
        if (length == 0 && payload is not null && !payload.AsSpan().SequenceEqual(System.Security.Cryptography.SHA256.HashData([])))
            throw new S3Error("XAmzContentSHA256Mismatch", 400, "The provided 'x-amz-content-sha256' header does not match what was computed.");
        if (payload is null && checksum is null && crc32C is null) return (request.Body, length, () => null);
        var verifying = new VerifyingStream(request.Body, length, payload, checksum, crc32C);
        return (verifying, length, () => verifying.Failure);
    }

    /// <summary>A CRC32C as S3's x-amz-checksum-crc32c shows it: base64 of the big-endian value.</summary>
    public static string Crc32CBase64(uint crc)
    {
        Span<byte> bytes = stackalloc byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(bytes, crc);
        return Convert.ToBase64String(bytes);
    }

    private static S3Error InvalidHash() => new("InvalidArgument", 400,
        "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, or a valid sha256 value.");
}
