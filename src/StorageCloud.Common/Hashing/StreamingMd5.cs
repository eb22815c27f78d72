using System.Security.Cryptography;

namespace StorageCloud.Common.Hashing;

/// <summary>
/// MD5 computed as bytes stream past, so an ETag never needs the whole object in memory.
/// Reusable after <see cref="GetHexAndReset"/>; not thread-safe.
/// </summary>
public sealed class StreamingMd5 : IDisposable
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.MD5);

    /// <summary>Bytes hashed since the last reset.</summary>
    public long BytesHashed { get; private set; }

    /// <summary>Adds <paramref name="data"/> to the digest.</summary>
    public void Append(ReadOnlySpan<byte> data)
    {
        _hash.AppendData(data);
        BytesHashed += data.Length;
    }

    /// <summary>Writes the 16-byte digest and starts over.</summary>
    public void GetHashAndReset(Span<byte> destination)
    {
        _hash.GetHashAndReset(destination);
        BytesHashed = 0;
    }

    /// <summary>The digest as 32 lowercase hex digits (an ETag's form); starts over.</summary>
    public string GetHexAndReset()
    {
        Span<byte> digest = stackalloc byte[16];
        GetHashAndReset(digest);
        return Convert.ToHexStringLower(digest);
    }

    /// <summary>Hashes a whole stream in pooled chunks and returns the lowercase hex digest.</summary>
    public static async Task<string> HashStreamAsync(Stream stream, CancellationToken cancellationToken = default)
    {
        using var md5 = new StreamingMd5();
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                md5.Append(buffer.AsSpan(0, read));
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
        return md5.GetHexAndReset();
    }

    /// <summary>Lowercase hex MD5 of a buffer.</summary>
    public static string HexOf(ReadOnlySpan<byte> data)
    {
        Span<byte> digest = stackalloc byte[16];
        MD5.HashData(data, digest);
        return Convert.ToHexStringLower(digest);
    }

    /// <inheritdoc/>
    public void Dispose() => _hash.Dispose();
}
