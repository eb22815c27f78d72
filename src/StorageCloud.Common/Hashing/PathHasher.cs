using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace StorageCloud.Common.Hashing;

/// <summary>
/// Swift's hash_path: MD5 of prefix + "/account[/container[/object]]" + suffix, where prefix and suffix are
/// the cluster's secrets. It decides an item's partition and its on-disk hash.
/// </summary>
public sealed class PathHasher
{
    private readonly byte[] _prefix;
    private readonly byte[] _suffix;

    /// <summary>Creates a hasher for the cluster secrets (Swift's swift_hash_path_prefix and _suffix).</summary>
    public PathHasher(string prefix, string suffix)
    {
        _prefix = Encoding.UTF8.GetBytes(prefix);
        _suffix = Encoding.UTF8.GetBytes(suffix);
    }

    /// <summary>Writes the 16-byte MD5 of the path into <paramref name="digest"/>; empty parts are left out, as in Swift.</summary>
    public void HashPath(string account, string? container, string? obj, Span<byte> digest)
    {
        if (!string.IsNullOrEmpty(obj) && string.IsNullOrEmpty(container))
            throw new ArgumentException("container is required if object is provided", nameof(container));
        var length = _prefix.Length + _suffix.Length + 3
            + Encoding.UTF8.GetMaxByteCount(account.Length)
            + Encoding.UTF8.GetMaxByteCount(container?.Length ?? 0)
            + Encoding.UTF8.GetMaxByteCount(obj?.Length ?? 0);
        byte[]? rented = null;
        Span<byte> buffer = length <= 1024 ? stackalloc byte[length] : (rented = ArrayPool<byte>.Shared.Rent(length));
        try
        {
            var n = 0;
            _prefix.CopyTo(buffer);
            n += _prefix.Length;
            buffer[n++] = (byte)'/';
            n += Encoding.UTF8.GetBytes(account, buffer[n..]);
            if (!string.IsNullOrEmpty(container))
            {
                buffer[n++] = (byte)'/';
                n += Encoding.UTF8.GetBytes(container, buffer[n..]);
                if (!string.IsNullOrEmpty(obj))
                {
                    buffer[n++] = (byte)'/';
                    n += Encoding.UTF8.GetBytes(obj, buffer[n..]);
                }
            }
            _suffix.CopyTo(buffer[n..]);
            n += _suffix.Length;
            ShortMd5.HashData(buffer[..n], digest);
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>The path hash as 32 lowercase hex digits, as Swift names hash directories.</summary>
    public string HashPathHex(string account, string? container = null, string? obj = null)
    {
        Span<byte> digest = stackalloc byte[16];
        HashPath(account, container, obj, digest);
        return Convert.ToHexStringLower(digest);
    }

    /// <summary>The partition of the path for a ring with 2^<paramref name="partPower"/> partitions.</summary>
    public uint GetPartition(string account, string? container, string? obj, int partPower)
    {
        Span<byte> digest = stackalloc byte[16];
        HashPath(account, container, obj, digest);
        return PartitionOf(digest, partPower);
    }

    /// <summary>The top <paramref name="partPower"/> bits of a path hash, as Swift's ring computes them.</summary>
    public static uint PartitionOf(ReadOnlySpan<byte> digest, int partPower)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(partPower);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(partPower, 32);
        var top = BinaryPrimitives.ReadUInt32BigEndian(digest);
        // A shift by 32 is a no-op in C#, so part power 0 (a single partition) is spelled out.
        return partPower == 0 ? 0 : top >> (32 - partPower);
    }
}
