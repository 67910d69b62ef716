using System.Buffers.Binary;
using System.Numerics;

namespace OrleansBus.Silo.Storage;

/// <summary>
/// One fixed-size entry of a chunk's <c>.idx</c> file, written after the batch it describes.
/// Layout (little-endian, 32 bytes): end offset i64 · messages i32 · batch CRC-32C u32 ·
/// append time (Unix ms) i64 · entry CRC-32C u32 over bytes 0..23 · format marker u32.
/// The entry's own checksum tells a torn entry from a whole one; the batch checksum tells
/// a whole batch from a torn or corrupt one.
/// </summary>
public readonly record struct IndexEntry(long EndOffset, int Messages, uint BatchCrc, long AppendTimeMs)
{
    public const int Size = 32;
    private const uint FormatMarker = 0x4F42_5331; // "OBS1"

    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteInt64LittleEndian(destination, EndOffset);
        BinaryPrimitives.WriteInt32LittleEndian(destination[8..], Messages);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[12..], BatchCrc);
        BinaryPrimitives.WriteInt64LittleEndian(destination[16..], AppendTimeMs);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[24..], Crc32C.Compute(destination[..24]));
        BinaryPrimitives.WriteUInt32LittleEndian(destination[28..], FormatMarker);
    }

    /// <summary>Reads an entry; false when its checksum or marker does not match (a torn or damaged entry).</summary>
    public static bool TryRead(ReadOnlySpan<byte> source, out IndexEntry entry)
    {
        entry = default;
        if (source.Length < Size)
            return false;
        if (BinaryPrimitives.ReadUInt32LittleEndian(source[28..]) != FormatMarker)
            return false;
        if (BinaryPrimitives.ReadUInt32LittleEndian(source[24..]) != Crc32C.Compute(source[..24]))
            return false;
        entry = new IndexEntry(
            BinaryPrimitives.ReadInt64LittleEndian(source),
            BinaryPrimitives.ReadInt32LittleEndian(source[8..]),
            BinaryPrimitives.ReadUInt32LittleEndian(source[12..]),
            BinaryPrimitives.ReadInt64LittleEndian(source[16..]));
        return true;
    }
}

/// <summary>CRC-32C (Castagnoli) on the CPU's crc32 instruction where it has one.</summary>
public static class Crc32C
{
    public static uint Compute(ReadOnlySpan<byte> data) => ~Append(0xFFFF_FFFFu, data);

    /// <summary>Continues a running (non-finalised) CRC; start with 0xFFFFFFFF and finalise with ~.</summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        while (data.Length >= 8)
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }
        foreach (var b in data)
            crc = BitOperations.Crc32C(crc, b);
        return crc;
    }
}
