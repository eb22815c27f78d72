using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace StorageCloud.Common.Hashing;

/// <summary>
/// CRC-32C (Castagnoli, RFC 3720), the checksum on every on-disk record. Uses the SSE4.2 or ARMv8 CRC
/// instructions when the CPU has them and a slicing-by-8 table otherwise; both give the same values.
/// </summary>
public static class Crc32C
{
    private const uint Polynomial = 0x82F63B78; // reflected 0x1EDC6F41

    private static readonly uint[] Table = BuildTable();

    /// <summary>Whether this CPU computes CRC-32C in hardware.</summary>
    public static bool IsHardwareAccelerated => Sse42.X64.IsSupported || Sse42.IsSupported || Crc32.Arm64.IsSupported;

    /// <summary>The CRC-32C of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => Append(0, data);

    /// <summary>
    /// Extends <paramref name="crc"/>, the CRC of the bytes before, over <paramref name="data"/>, so that a
    /// record can be checked piece by piece as it streams.
    /// </summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
        => ~(IsHardwareAccelerated ? UpdateHardware(~crc, data) : UpdateSoftware(~crc, data));

    /// <summary>
    /// The CRC of A followed by B, from the CRC of A, the CRC of B and B's length, without reading either: a record
    /// whose pages were checksummed already gets its whole CRC for a few multiplications per page.
    /// </summary>
    public static uint Combine(uint crcA, uint crcB, long lengthB)
        => lengthB == 0 ? crcA : MultiplyModP(ShiftOperator(lengthB), crcA) ^ crcB;

    /// <summary>As <see cref="Combine"/>, for B of one fixed length whose operator <see cref="ShiftOperator"/> gave.</summary>
    public static uint Combine(uint crcA, uint crcB, uint shiftOperator) => MultiplyModP(shiftOperator, crcA) ^ crcB;

    /// <summary>x^(8 * <paramref name="length"/>) modulo the polynomial: appending that many bytes multiplies a CRC by it.</summary>
    public static uint ShiftOperator(long length)
    {
        // x^(2^k) for k = 3, 4, ...: squaring walks the powers of two; bit i of the byte length picks x^(8 * 2^i).
        var result = 1u << 31; // the polynomial 1 (bits are reflected: bit 31 is x^0)
        for (var k = 3; length != 0; length >>= 1, k++)
            if ((length & 1) != 0) result = MultiplyModP(PowersOfTwo[k], result);
        return result;
    }

    private static readonly uint[] PowersOfTwo = BuildPowersOfTwo();

    private static uint[] BuildPowersOfTwo()
    {
        var powers = new uint[64];
        powers[0] = 1u << 30; // x^1
        for (var k = 1; k < powers.Length; k++) powers[k] = MultiplyModP(powers[k - 1], powers[k - 1]);
        return powers;
    }

    // Carry-less product of two polynomials modulo the CRC polynomial, in the reflected bit order.
    private static uint MultiplyModP(uint a, uint b)
    {
        uint product = 0;
        for (var bit = 1u << 31; bit != 0 && a != 0; bit >>= 1)
        {
            if ((a & bit) != 0)
            {
                product ^= b;
                a ^= bit;
            }
            b = (b & 1) != 0 ? (b >> 1) ^ Polynomial : b >> 1;
        }
        return product;
    }

    /// <summary>The table-driven path, kept callable so tests can check it against the hardware one.</summary>
    public static uint AppendSoftware(uint crc, ReadOnlySpan<byte> data) => ~UpdateSoftware(~crc, data);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static uint UpdateHardware(uint crc, ReadOnlySpan<byte> data)
    {
        ref var p = ref MemoryMarshal.GetReference(data);
        nuint i = 0;
        var length = (nuint)data.Length;
        if (Sse42.X64.IsSupported)
        {
            ulong c = crc;
            // Four independent loads per iteration keep the CRC unit busy while memory catches up.
            for (; i + 32 <= length; i += 32)
            {
                c = Sse42.X64.Crc32(c, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, i)));
                c = Sse42.X64.Crc32(c, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, i + 8)));
                c = Sse42.X64.Crc32(c, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, i + 16)));
                c = Sse42.X64.Crc32(c, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, i + 24)));
            }
            for (; i + 8 <= length; i += 8)
                c = Sse42.X64.Crc32(c, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, i)));
            crc = (uint)c;
            for (; i < length; i++) crc = Sse42.Crc32(crc, Unsafe.Add(ref p, i));
            return crc;
        }
        if (Crc32.Arm64.IsSupported)
        {
            for (; i + 8 <= length; i += 8)
                crc = Crc32.Arm64.ComputeCrc32C(crc, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, i)));
            for (; i < length; i++) crc = Crc32.ComputeCrc32C(crc, Unsafe.Add(ref p, i));
            return crc;
        }
        for (; i + 4 <= length; i += 4)
            crc = Sse42.Crc32(crc, Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref p, i)));
        for (; i < length; i++) crc = Sse42.Crc32(crc, Unsafe.Add(ref p, i));
        return crc;
    }

    private static uint UpdateSoftware(uint crc, ReadOnlySpan<byte> data)
    {
        var table = Table;
        while (data.Length >= 8)
        {
            var lo = BinaryPrimitives.ReadUInt32LittleEndian(data) ^ crc;
            var hi = BinaryPrimitives.ReadUInt32LittleEndian(data[4..]);
            crc = table[7 * 256 + (lo & 0xFF)] ^ table[6 * 256 + ((lo >> 8) & 0xFF)]
                ^ table[5 * 256 + ((lo >> 16) & 0xFF)] ^ table[4 * 256 + (lo >> 24)]
                ^ table[3 * 256 + (hi & 0xFF)] ^ table[2 * 256 + ((hi >> 8) & 0xFF)]
                ^ table[1 * 256 + ((hi >> 16) & 0xFF)] ^ table[hi >> 24];
            data = data[8..];
        }
        foreach (var b in data) crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return crc;
    }

    private static uint[] BuildTable()
    {
        var table = new uint[8 * 256];
        for (uint n = 0; n < 256; n++)
        {
            var c = n;
            for (var k = 0; k < 8; k++) c = (c & 1) != 0 ? (c >> 1) ^ Polynomial : c >> 1;
            table[n] = c;
        }
        for (var slice = 1; slice < 8; slice++)
        {
            for (var n = 0; n < 256; n++)
            {
                var previous = table[(slice - 1) * 256 + n];
                table[slice * 256 + n] = (previous >> 8) ^ table[previous & 0xFF];
            }
        }
        return table;
    }
}
