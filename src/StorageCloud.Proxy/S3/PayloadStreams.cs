using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace StorageCloud.Proxy.S3;

/// <summary>A body that failed S3's checks; an IOException so the object layer treats it as a broken upload and stores nothing.</summary>
public sealed class PayloadException(S3Error error) : IOException(error.Message)
{
    /// <summary>The S3 error to answer with.</summary>
    public S3Error Error { get; } = error;
}

/// <summary>The checks a plain (not chunked) body gets as it streams: its SHA-256 against x-amz-content-sha256, and an x-amz-checksum-sha256.</summary>
public sealed class VerifyingStream : StorageCloud.Common.IO.ReadOnlyStream
{
    private readonly Stream _inner;
    private readonly long _length;
    private readonly byte[]? _payloadHash;
    private readonly byte[]? _checksumSha256;
    private readonly uint? _checksumCrc32C;
    private readonly IncrementalHash _sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private uint _crc32C;
    private long _read;

    /// <summary>Wraps a body of known length; any expected value may be null.</summary>
    public VerifyingStream(Stream inner, long length, byte[]? payloadHash, byte[]? checksumSha256, uint? checksumCrc32C = null)
    {
        _inner = inner;
        _length = length;
        _payloadHash = payloadHash;
        _checksumSha256 = checksumSha256;
        _checksumCrc32C = checksumCrc32C;
    }

    /// <summary>The S3 error the body earned, once it has been read.</summary>
    public S3Error? Failure { get; private set; }

    /// <inheritdoc />
    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    /// <inheritdoc />
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var n = await _inner.ReadAsync(buffer, cancellationToken);
        if (_payloadHash is not null || _checksumSha256 is not null) _sha256.AppendData(buffer.Span[..n]);
        if (_checksumCrc32C is not null) _crc32C = StorageCloud.Common.Hashing.Crc32C.Append(_crc32C, buffer.Span[..n]);
        _read += n;
        if (n == 0 && _read < _length)
        {
            Failure = new S3Error("IncompleteBody", 400, "You did not provide the number of bytes specified by the Content-Length HTTP header.");
            throw new PayloadException(Failure);
        }
        // Checked before the last bytes are handed on, so a bad body never completes the object it would make.
        if (_read == _length && n > 0)
        {
            var digest = _sha256.GetHashAndReset();
            if (_payloadHash is not null && !CryptographicOperations.FixedTimeEquals(digest, _payloadHash))
                Failure = new S3Error("XAmzContentSHA256Mismatch", 400, "The provided 'x-amz-content-sha256' header does not match what was computed.");
            else if (_checksumSha256 is not null && !CryptographicOperations.FixedTimeEquals(digest, _checksumSha256))
                Failure = new S3Error("BadDigest", 400, "The SHA256 you specified did not match the calculated checksum.");
            else if (_checksumCrc32C is { } crc && crc != _crc32C)
                Failure = new S3Error("BadDigest", 400, "The CRC32C you specified did not match the calculated checksum.");
            if (Failure is not null) throw new PayloadException(Failure);
        }
        return n;
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing) _sha256.Dispose();
        base.Dispose(disposing);
    }
}

/// <summary>The signing state of a STREAMING-AWS4-HMAC-SHA256-PAYLOAD upload: the key, scope and the seed signature.</summary>
public sealed record ChunkSigning(byte[] Key, string AmzDate, string Scope, string SeedSignature);

/// <summary>
/// Decodes an aws-chunked body ("&lt;hex size&gt;[;chunk-signature=&lt;sig&gt;]\r\n&lt;data&gt;\r\n" ... a zero chunk, then
/// optional trailers) into the object's bytes, verifying each chunk's signature when the upload is signed and the
/// x-amz-checksum-sha256 trailer when sent. Nothing past the declared decoded length is accepted.
/// </summary>
public sealed class AwsChunkedStream : StorageCloud.Common.IO.ReadOnlyStream
{
    private const int MaxLine = 4096;
    private static readonly string EmptyHash = Convert.ToHexStringLower(SHA256.HashData([]));
    private readonly Stream _inner;
    private readonly ChunkSigning? _signing;
    private readonly long _decodedLength;
    private readonly byte[] _buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
    private readonly IncrementalHash _chunkHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly IncrementalHash _objectHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private int _start, _end;
    private long _chunkLeft = -1, _produced;
    private string? _chunkSignature;
    private string _previousSignature;
    private bool _done;

    /// <summary>Wraps the raw body.</summary>
    public AwsChunkedStream(Stream inner, long decodedLength, ChunkSigning? signing)
    {
        _inner = inner;
        _decodedLength = decodedLength;
        _signing = signing;
        _previousSignature = signing?.SeedSignature ?? "";
    }

    /// <summary>The S3 error the body earned, once read.</summary>
    public S3Error? Failure { get; private set; }

    /// <summary>The object's SHA-256 when the upload sent it as a trailer (x-amz-checksum-sha256), checked at the end.</summary>
    public string? TrailerChecksumSha256 { get; private set; }

    /// <summary>The object's CRC32C when the upload sent it as a trailer (x-amz-checksum-crc32c), checked at the end.</summary>
    public string? TrailerChecksumCrc32C { get; private set; }

    private uint _crc32C;

    /// <inheritdoc />
    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    /// <inheritdoc />
    public override async ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        if (_done || destination.Length == 0) return 0;
        if (_chunkLeft <= 0)
        {
            if (_chunkLeft == 0) await EndChunkAsync(cancellationToken);
            await StartChunkAsync(cancellationToken);
            if (_done) return 0;
        }
        if (_start == _end && !await FillAsync(cancellationToken)) Fail(Incomplete());
        var n = (int)Math.Min(Math.Min(destination.Length, _end - _start), _chunkLeft);
        if (_produced + n > _decodedLength) Fail(Incomplete());
        var data = _buffer.AsSpan(_start, n);
        data.CopyTo(destination.Span);
        _chunkHash.AppendData(data);
        _objectHash.AppendData(data);
        _crc32C = StorageCloud.Common.Hashing.Crc32C.Append(_crc32C, data);
        _start += n;
        _chunkLeft -= n;
        _produced += n;
        // The last chunk's signature is checked before its final bytes are handed on.
        if (_chunkLeft == 0) CheckChunkSignature();
        return n;
    }

    private async Task StartChunkAsync(CancellationToken cancellationToken)
    {
        var header = await ReadLineAsync(cancellationToken) ?? throw Fail(Incomplete());
        var semicolon = header.IndexOf(';');
        var sizeText = semicolon < 0 ? header : header[..semicolon];
        if (!long.TryParse(sizeText, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var size) || size < 0) throw Fail(Malformed());
        _chunkSignature = null;
        if (semicolon >= 0)
        {
            var ext = header[(semicolon + 1)..];
            if (ext.StartsWith("chunk-signature=", StringComparison.Ordinal)) _chunkSignature = ext["chunk-signature=".Length..];
        }
        if (_signing is not null && _chunkSignature is null) throw Fail(SignatureMismatch());
        _chunkLeft = size;
        if (size > 0) return;
        CheckChunkSignature();
        await ReadTrailersAsync(cancellationToken);
        if (_produced != _decodedLength) throw Fail(Incomplete());
        if (TrailerChecksumSha256 is { } expected && Convert.ToBase64String(_objectHash.GetHashAndReset()) != expected)
            throw Fail(new S3Error("BadDigest", 400, "The SHA256 you specified did not match the calculated checksum."));
        if (TrailerChecksumCrc32C is { } crc && Payload.Crc32CBase64(_crc32C) != crc)
            throw Fail(new S3Error("BadDigest", 400, "The CRC32C you specified did not match the calculated checksum."));
        _done = true;
    }

    private void CheckChunkSignature()
    {
        var chunkHash = Convert.ToHexStringLower(_chunkHash.GetHashAndReset());
        if (_signing is null) return;
        var toSign = $"AWS4-HMAC-SHA256-PAYLOAD\n{_signing.AmzDate}\n{_signing.Scope}\n{_previousSignature}\n{EmptyHash}\n{chunkHash}";
        var expected = Convert.ToHexStringLower(HMACSHA256.HashData(_signing.Key, Encoding.UTF8.GetBytes(toSign)));
        if (_chunkSignature is null || !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(_chunkSignature)))
            throw Fail(SignatureMismatch());
        _previousSignature = expected;
    }

    private async Task EndChunkAsync(CancellationToken cancellationToken)
    {
        var line = await ReadLineAsync(cancellationToken);
        if (line is not "") throw Fail(Malformed());
    }

    private async Task ReadTrailersAsync(CancellationToken cancellationToken)
    {
        var trailers = new StringBuilder();
        string? trailerSignature = null;
        while (true)
        {
            var line = await ReadLineAsync(cancellationToken);
            if (line is null or "") break;
            var colon = line.IndexOf(':');
            if (colon <= 0) throw Fail(Malformed());
            var name = line[..colon].Trim().ToLowerInvariant();
            var value = line[(colon + 1)..].Trim();
            if (name == "x-amz-trailer-signature")
            {
                trailerSignature = value;
                continue;
            }
            trailers.Append(name).Append(':').Append(value).Append('\n');
            if (name == "x-amz-checksum-sha256") TrailerChecksumSha256 = value;
            if (name == "x-amz-checksum-crc32c") TrailerChecksumCrc32C = value;
        }
        if (_signing is not null && trailers.Length > 0)
        {
            var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(trailers.ToString())));
            var toSign = $"AWS4-HMAC-SHA256-TRAILER\n{_signing.AmzDate}\n{_signing.Scope}\n{_previousSignature}\n{hash}";
            var expected = Convert.ToHexStringLower(HMACSHA256.HashData(_signing.Key, Encoding.UTF8.GetBytes(toSign)));
            if (trailerSignature is null || !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(trailerSignature)))
                throw Fail(SignatureMismatch());
        }
    }

    /// <summary>One CRLF-terminated line (without the CRLF), or null at the end of the body.</summary>
    private async Task<string?> ReadLineAsync(CancellationToken cancellationToken)
    {
        var line = new StringBuilder();
        while (true)
        {
            if (_start == _end && !await FillAsync(cancellationToken)) return line.Length == 0 ? null : throw Fail(Malformed());
            var span = _buffer.AsSpan(_start, _end - _start);
            var lf = span.IndexOf((byte)'\n');
            var take = lf < 0 ? span.Length : lf;
            line.Append(Encoding.ASCII.GetString(span[..take]));
            _start += lf < 0 ? take : take + 1;
            if (line.Length > MaxLine) throw Fail(Malformed());
            if (lf >= 0)
            {
                if (line.Length > 0 && line[^1] == '\r') line.Length--;
                return line.ToString();
            }
        }
    }

    private async Task<bool> FillAsync(CancellationToken cancellationToken)
    {
        _start = 0;
        _end = await _inner.ReadAsync(_buffer, cancellationToken);
        return _end > 0;
    }

    private PayloadException Fail(S3Error error)
    {
        Failure = error;
        throw new PayloadException(error);
    }

    private static S3Error SignatureMismatch() => S3Error.SignatureDoesNotMatch();

    private static S3Error Incomplete() => new("IncompleteBody", 400, "You did not provide the number of bytes specified by the Content-Length HTTP header.");

    private static S3Error Malformed() => new("InvalidChunkSizeError", 400, "Only the last chunk is allowed to have a size less than 8192 bytes");

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _chunkHash.Dispose();
            _objectHash.Dispose();
        }
        base.Dispose(disposing);
    }
}
