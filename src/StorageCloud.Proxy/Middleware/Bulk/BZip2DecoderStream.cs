namespace StorageCloud.Proxy.Middleware.Bulk;

/// <summary>
/// A streaming bzip2 decoder (for ?extract-archive=tar.bz2; .NET has none). Reads one block (at most 900 kB) at a
/// time: Huffman-coded MTF/RLE symbols, the inverse Burrows-Wheeler transform, then the final run-length decoding.
/// Every block's CRC and the stream CRC are checked; anything malformed is an <see cref="InvalidDataException"/>.
/// </summary>
public sealed class BZip2DecoderStream : Common.IO.ReadOnlyStream
{
    private const int MaxGroups = 6, GroupSize = 50, MaxCodeLength = 20;
    private static readonly uint[] CrcTable = BuildCrcTable();

    private readonly Stream _input;
    private readonly bool _leaveOpen;
    private ulong _bitBuffer;
    private int _bitCount;
    private int _blockSizeMax;
    private bool _streamEnded = true;
    private uint _streamCrc, _computedStreamCrc;

    // The current block's output, after the inverse BWT, still run-length encoded.
    private int[] _tt = [];
    private int _ttLength, _ttPos, _origPtr;
    private int _lastByte = -1, _runLength, _repeat;
    private byte _repeatByte;
    private uint _blockCrc, _computedBlockCrc;
    private bool _inBlock;

    /// <summary>Decodes <paramref name="input"/>.</summary>
    public BZip2DecoderStream(Stream input, bool leaveOpen = false)
    {
        _input = input;
        _leaveOpen = leaveOpen;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var written = 0;
        while (true)
        {
            written += Drain(buffer[written..]);
            if (written == buffer.Length) return written;
            Fill(ReadAhead);
            if (!NextBlock()) return written;
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var written = 0;
        while (true)
        {
            written += Drain(buffer.Span[written..]);
            if (written == buffer.Length) return written;
            // A whole compressed block is read ahead (asynchronously), so decoding never waits on the input.
            await FillAsync(ReadAhead, cancellationToken).ConfigureAwait(false);
            if (!NextBlock()) return written;
        }
    }

    /// <summary>Emits decoded bytes of the current block until the buffer is full or the block is done.</summary>
    private int Drain(Span<byte> buffer)
    {
        var written = 0;
        while (written < buffer.Length)
        {
            if (_repeat > 0)
            {
                buffer[written++] = _repeatByte;
                Emit(_repeatByte);
                _repeat--;
                continue;
            }
            if (!_inBlock) break;
            if (_ttPos >= _ttLength)
            {
                EndBlock();
                break;
            }
            _origPtr = _tt[_origPtr];
            var b = (byte)(_origPtr & 0xFF);
            _origPtr >>= 8;
            _ttPos++;
            if (_runLength == 4)
            {
                // After four equal bytes comes a count of further copies.
                _repeat = b;
                _repeatByte = (byte)_lastByte;
                _runLength = 0;
                _lastByte = -1;
                continue;
            }
            if (b == _lastByte) _runLength++;
            else
            {
                _runLength = 1;
                _lastByte = b;
            }
            buffer[written++] = b;
            Emit(b);
        }
        if (_inBlock && _repeat == 0 && _ttPos >= _ttLength) EndBlock();
        return written;
    }

    // Read-ahead: more than the largest compressed block (900 kB of input, 20-bit codes at worst) plus headers.
    private const int ReadAhead = 3 * 1024 * 1024;
    private readonly byte[] _ahead = new byte[ReadAhead + 64 * 1024];
    private int _aheadStart, _aheadEnd;
    private bool _inputEnded;

    private void Compact()
    {
        if (_aheadStart == 0) return;
        Buffer.BlockCopy(_ahead, _aheadStart, _ahead, 0, _aheadEnd - _aheadStart);
        _aheadEnd -= _aheadStart;
        _aheadStart = 0;
    }

    private async ValueTask FillAsync(int want, CancellationToken cancellationToken)
    {
        if (_aheadEnd - _aheadStart >= want || _inputEnded) return;
        Compact();
        while (_aheadEnd < want && !_inputEnded)
        {
            var n = await _input.ReadAsync(_ahead.AsMemory(_aheadEnd, _ahead.Length - _aheadEnd), cancellationToken).ConfigureAwait(false);
            if (n == 0) _inputEnded = true;
            _aheadEnd += n;
        }
    }

    private void Fill(int want)
    {
        if (_aheadEnd - _aheadStart >= want || _inputEnded) return;
        Compact();
        while (_aheadEnd < want && !_inputEnded)
        {
            var n = _input.Read(_ahead, _aheadEnd, _ahead.Length - _aheadEnd);
            if (n == 0) _inputEnded = true;
            _aheadEnd += n;
        }
    }

    private int NextInputByte()
    {
        if (_aheadStart < _aheadEnd) return _ahead[_aheadStart++];
        if (_inputEnded) return -1;
        throw new InvalidDataException("bzip2 block larger than any valid block");
    }

    private void Emit(byte b) => _computedBlockCrc = (_computedBlockCrc << 8) ^ CrcTable[(_computedBlockCrc >> 24) ^ b];

    private void EndBlock()
    {
        _inBlock = false;
        if (~_computedBlockCrc != _blockCrc) throw new InvalidDataException("bzip2 block CRC mismatch");
        _computedStreamCrc = ((_computedStreamCrc << 1) | (_computedStreamCrc >> 31)) ^ _blockCrc;
    }

    /// <summary>Reads the next block (or stream header, or end of stream); false at the end of the input.</summary>
    private bool NextBlock()
    {
        while (true)
        {
            if (_streamEnded)
            {
                // A new stream (bzip2 files may be concatenated) or the true end.
                var first = NextInputByte();
                if (first < 0) return false;
                _bitBuffer = 0;
                _bitCount = 0;
                if (first != 'B' || NextInputByte() != 'Z' || NextInputByte() != 'h') throw new InvalidDataException("not a bzip2 stream");
                var level = NextInputByte() - '0';
                if (level is < 1 or > 9) throw new InvalidDataException("bad bzip2 block size");
                _blockSizeMax = level * 100_000;
                _streamEnded = false;
                _computedStreamCrc = 0;
            }
            var magic = Bits(24) << 24 | Bits(24);
            if (magic == 0x177245385090L)
            {
                _streamCrc = (uint)Bits(32);
                if (_streamCrc != _computedStreamCrc) throw new InvalidDataException("bzip2 stream CRC mismatch");
                // The next stream starts on a byte boundary.
                _bitCount -= _bitCount % 8;
                if (_bitCount > 0) throw new InvalidDataException("bzip2 data after the end of stream");
                _streamEnded = true;
                continue;
            }
            if (magic != 0x314159265359L) throw new InvalidDataException("bad bzip2 block header");
            _blockCrc = (uint)Bits(32);
            if (Bits(1) != 0) throw new InvalidDataException("randomised bzip2 blocks are not supported");
            _origPtr = (int)Bits(24);
            DecodeBlock();
            _computedBlockCrc = 0xFFFFFFFF;
            _inBlock = true;
            _lastByte = -1;
            _runLength = 0;
            return true;
        }
    }

    private void DecodeBlock()
    {
        // Symbols in use.
        var inUse = new List<byte>(256);
        var ranges = (int)Bits(16);
        for (var i = 0; i < 16; i++)
        {
            if ((ranges & (0x8000 >> i)) == 0) continue;
            var bits = (int)Bits(16);
            for (var j = 0; j < 16; j++)
                if ((bits & (0x8000 >> j)) != 0) inUse.Add((byte)(i * 16 + j));
        }
        if (inUse.Count == 0) throw new InvalidDataException("bzip2 block uses no symbols");
        var alphaSize = inUse.Count + 2;
        var groups = (int)Bits(3);
        var selectorCount = (int)Bits(15);
        if (groups is < 2 or > MaxGroups || selectorCount < 1) throw new InvalidDataException("bad bzip2 Huffman groups");
        var mtfGroups = new byte[MaxGroups];
        for (var i = 0; i < groups; i++) mtfGroups[i] = (byte)i;
        var selectors = new byte[selectorCount];
        for (var i = 0; i < selectorCount; i++)
        {
            var j = 0;
            while (Bits(1) == 1)
                if (++j >= groups) throw new InvalidDataException("bad bzip2 selector");
            var v = mtfGroups[j];
            for (; j > 0; j--) mtfGroups[j] = mtfGroups[j - 1];
            mtfGroups[0] = v;
            selectors[i] = v;
        }
        var tables = new HuffmanTable[groups];
        for (var g = 0; g < groups; g++)
        {
            var lengths = new byte[alphaSize];
            var length = (int)Bits(5);
            for (var s = 0; s < alphaSize; s++)
            {
                while (true)
                {
                    if (length is < 1 or > MaxCodeLength) throw new InvalidDataException("bad bzip2 code length");
                    if (Bits(1) == 0) break;
                    length += Bits(1) == 0 ? 1 : -1;
                }
                lengths[s] = (byte)length;
            }
            tables[g] = new HuffmanTable(lengths);
        }

        // Symbols → MTF indices with RUNA/RUNB runs → bytes; counted for the inverse BWT.
        var mtf = new byte[256];
        for (var i = 0; i < inUse.Count; i++) mtf[i] = inUse[i];
        var counts = new int[256];
        if (_tt.Length < _blockSizeMax) _tt = new int[_blockSizeMax];
        var n = 0;
        var selector = 0;
        var left = 0;
        HuffmanTable table = tables[0];
        var run = 0;
        var runWeight = 1;
        var eob = alphaSize - 1;
        while (true)
        {
            if (left == 0)
            {
                if (selector >= selectorCount) throw new InvalidDataException("bzip2 selectors exhausted");
                table = tables[selectors[selector++]];
                left = GroupSize;
            }
            left--;
            var symbol = table.Decode(this);
            if (symbol <= 1)
            {
                run += (symbol + 1) * runWeight;
                runWeight <<= 1;
                if (run > _blockSizeMax) throw new InvalidDataException("bzip2 run too long");
                continue;
            }
            if (run > 0)
            {
                if (n + run > _blockSizeMax) throw new InvalidDataException("bzip2 block too long");
                var b = mtf[0];
                counts[b] += run;
                for (; run > 0; run--) _tt[n++] = b;
                runWeight = 1;
            }
            if (symbol == eob) break;
            if (n >= _blockSizeMax) throw new InvalidDataException("bzip2 block too long");
            var index = symbol - 1;
            var value = mtf[index];
            for (var k = index; k > 0; k--) mtf[k] = mtf[k - 1];
            mtf[0] = value;
            counts[value]++;
            _tt[n++] = value;
        }
        if (_origPtr >= n) throw new InvalidDataException("bad bzip2 origin pointer");

        // Inverse BWT: tt[i] keeps its byte in the low 8 bits and the next position above them.
        var starts = new int[256];
        for (int i = 0, sum = 0; i < 256; i++)
        {
            starts[i] = sum;
            sum += counts[i];
        }
        for (var i = 0; i < n; i++)
        {
            var b = _tt[i] & 0xFF;
            _tt[starts[b]++] |= i << 8;
        }
        _origPtr = _tt[_origPtr] >> 8;
        _ttLength = n;
        _ttPos = 0;
    }

    private long Bits(int count)
    {
        while (_bitCount < count)
        {
            var b = NextInputByte();
            if (b < 0) throw new InvalidDataException("bzip2 data ends early");
            _bitBuffer = (_bitBuffer << 8) | (uint)b;
            _bitCount += 8;
        }
        _bitCount -= count;
        return (long)((_bitBuffer >> _bitCount) & ((1UL << count) - 1));
    }

    /// <summary>A canonical Huffman code, decoded bit by bit against each length's limit.</summary>
    private sealed class HuffmanTable
    {
        private readonly int[] _limit = new int[MaxCodeLength + 2];
        private readonly int[] _base = new int[MaxCodeLength + 2];
        private readonly int[] _permute;
        private readonly int _minLength;

        public HuffmanTable(byte[] lengths)
        {
            _minLength = lengths.Min();
            var maxLength = lengths.Max();
            _permute = new int[lengths.Length];
            var p = 0;
            for (var len = _minLength; len <= maxLength; len++)
                for (var s = 0; s < lengths.Length; s++)
                    if (lengths[s] == len) _permute[p++] = s;
            var count = new int[MaxCodeLength + 2];
            foreach (var len in lengths) count[len]++;
            var code = 0;
            var index = 0;
            for (var len = _minLength; len <= MaxCodeLength; len++)
            {
                _base[len] = index - code;
                code += count[len];
                index += count[len];
                _limit[len] = code - 1;
                code <<= 1;
            }
        }

        public int Decode(BZip2DecoderStream stream)
        {
            var code = (int)stream.Bits(_minLength);
            for (var len = _minLength; len <= MaxCodeLength; len++)
            {
                if (code <= _limit[len]) return _permute[_base[len] + code];
                code = (code << 1) | (int)stream.Bits(1);
            }
            throw new InvalidDataException("bad bzip2 Huffman code");
        }
    }

    private static uint[] BuildCrcTable()
    {
        var table = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            var c = i << 24;
            for (var k = 0; k < 8; k++) c = (c & 0x80000000) != 0 ? (c << 1) ^ 0x04C11DB7 : c << 1;
            table[i] = c;
        }
        return table;
    }


    protected override void Dispose(bool disposing)
    {
        if (disposing && !_leaveOpen) _input.Dispose();
        base.Dispose(disposing);
    }
}
