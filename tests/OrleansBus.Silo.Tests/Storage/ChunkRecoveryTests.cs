using FsCheck;
using FsCheck.Fluent;
using OrleansBus.Silo.Storage;

namespace OrleansBus.Silo.Tests.Storage;

public sealed class ChunkRecoveryTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("obus-recovery-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Writes a chunk and its index exactly as the writer lays them out; returns each batch's end offset.</summary>
    private static long[] WriteChunk(string path, IReadOnlyList<byte[]> batches)
    {
        var ends = new long[batches.Count];
        using var data = File.Create(path);
        using var index = File.Create(path + ".idx");
        long end = 0;
        var entry = new byte[IndexEntry.Size];
        for (var i = 0; i < batches.Count; i++)
        {
            data.Write(batches[i]);
            end += batches[i].Length;
            ends[i] = end;
            new IndexEntry(end, batches[i].AsSpan().Count((byte)'\n'), Crc32C.Compute(batches[i]), 1_700_000_000_000 + i).WriteTo(entry);
            index.Write(entry);
        }
        return ends;
    }

    private static RecoveryResult Recover(string path)
    {
        using var data = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite);
        using var index = File.OpenHandle(path + ".idx", FileMode.Open, FileAccess.ReadWrite);
        return ChunkRecovery.Recover(data, index);
    }

    private static byte[][] MakeBatches(int[] sizes)
    {
        var batches = new byte[sizes.Length][];
        for (var i = 0; i < sizes.Length; i++)
        {
            var size = Math.Max(1, Math.Abs(sizes[i]) % 300 + 1);
            batches[i] = Batches.Make($"b{i}", count: Math.Max(1, size / 7), messageBytes: 7);
        }
        return batches;
    }

    [Fact]
    public void Any_truncation_of_data_and_index_recovers_to_the_longest_whole_batch_prefix()
    {
        var iteration = 0;
        Prop.ForAll<int[], int, int>((sizes, dataCutSeed, indexCutSeed) =>
        {
            if (sizes.Length == 0)
                sizes = [1];
            var batches = MakeBatches(sizes.Take(30).ToArray());
            var path = Path.Combine(_dir, $"c{iteration++}");
            var ends = WriteChunk(path, batches);
            var total = ends[^1];
            var dataCut = (long)(uint)dataCutSeed % (total + 1);
            var indexLength = (long)ends.Length * IndexEntry.Size;
            var indexCut = (long)(uint)indexCutSeed % (indexLength + 1);
            using (var f = new FileStream(path, FileMode.Open)) f.SetLength(dataCut);
            using (var f = new FileStream(path + ".idx", FileMode.Open)) f.SetLength(indexCut);

            var wholeEntries = (int)(indexCut / IndexEntry.Size);
            var expectedBatches = 0;
            while (expectedBatches < wholeEntries && ends[expectedBatches] <= dataCut)
                expectedBatches++;
            var expectedSize = expectedBatches == 0 ? 0 : ends[expectedBatches - 1];
            var expectedMessages = batches.Take(expectedBatches).Sum(b => b.AsSpan().Count((byte)'\n'));

            var result = Recover(path);
            var ok = !result.IsCorrupt
                && result.ValidSize == expectedSize
                && result.Batches == expectedBatches
                && result.Messages == expectedMessages
                && new FileInfo(path).Length == expectedSize
                && new FileInfo(path + ".idx").Length == (long)expectedBatches * IndexEntry.Size;
            File.Delete(path);
            File.Delete(path + ".idx");
            return ok;
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Bytes_past_the_last_indexed_batch_are_cut_as_a_torn_tail()
    {
        var path = Path.Combine(_dir, "tail");
        var ends = WriteChunk(path, MakeBatches([40, 50, 60]));
        using (var f = new FileStream(path, FileMode.Append)) f.Write("half a mess"u8);

        var result = Recover(path);

        Assert.False(result.IsCorrupt);
        Assert.Equal(ends[^1], result.ValidSize);
        Assert.Equal(11, result.CutDataBytes);
        Assert.Equal(ends[^1], new FileInfo(path).Length);
    }

    [Fact]
    public void A_checksum_mismatch_in_the_last_batch_is_a_torn_tail_and_is_cut()
    {
        var path = Path.Combine(_dir, "lastbad");
        var ends = WriteChunk(path, MakeBatches([40, 50, 60]));
        FlipByte(path, ends[^1] - 3);

        var result = Recover(path);

        Assert.False(result.IsCorrupt);
        Assert.Equal(ends[1], result.ValidSize);
        Assert.Equal(2, result.Batches);
        Assert.Equal(ends[1], new FileInfo(path).Length);
    }

    [Fact]
    public void A_checksum_mismatch_before_the_tail_marks_the_chunk_corrupt_and_truncates_nothing()
    {
        var path = Path.Combine(_dir, "midbad");
        var ends = WriteChunk(path, MakeBatches([40, 50, 60, 70]));
        FlipByte(path, ends[0] + 2);

        var result = Recover(path);

        Assert.True(result.IsCorrupt);
        Assert.Equal(ends[0], result.CorruptAtOffset);
        Assert.Contains("CRC-32C", result.CorruptReason, StringComparison.Ordinal);
        Assert.Equal(ends[^1], new FileInfo(path).Length);
        Assert.Equal(4L * IndexEntry.Size, new FileInfo(path + ".idx").Length);
    }

    [Fact]
    public void A_damaged_index_entry_followed_by_whole_entries_marks_the_chunk_corrupt()
    {
        var path = Path.Combine(_dir, "idxbad");
        var ends = WriteChunk(path, MakeBatches([40, 50, 60]));
        FlipByte(path + ".idx", IndexEntry.Size + 4);

        var result = Recover(path);

        Assert.True(result.IsCorrupt);
        Assert.Equal(ends[^1], new FileInfo(path).Length);
    }

    [Fact]
    public void Index_entries_round_trip_and_reject_a_flipped_bit()
    {
        var bytes = new byte[IndexEntry.Size];
        var entry = new IndexEntry(123_456_789, 42, 0xDEADBEEF, 1_700_000_000_123);
        entry.WriteTo(bytes);
        Assert.True(IndexEntry.TryRead(bytes, out var read));
        Assert.Equal(entry, read);
        bytes[3] ^= 0x10;
        Assert.False(IndexEntry.TryRead(bytes, out _));
    }

    [Fact]
    public void Crc32C_matches_the_standard_check_value()
    {
        // The CRC-32C check value for "123456789" (RFC 3720, appendix B.4).
        Assert.Equal(0xE3069283u, Crc32C.Compute("123456789"u8));
    }

    private static void FlipByte(string path, long offset)
    {
        using var f = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        f.Position = offset;
        var b = f.ReadByte();
        f.Position = offset;
        f.WriteByte((byte)(b ^ 0xFF));
    }
}
