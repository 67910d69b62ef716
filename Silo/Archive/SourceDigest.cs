using System.Buffers;
using System.Security.Cryptography;

namespace OrleansBus.Silo.Archive;

/// <summary>
/// One sequential pass over an upload source: its length (reading at most one byte past the expected
/// length, so a longer source is caught without reading all of it), its SHA-256, and when asked the
/// MD5s the blob service checks: of the whole body and of each block of <c>blockBytes</c>.
/// MD5 here is a transfer checksum the Blob API demands, not a security measure.
/// </summary>
internal sealed class SourceDigest
{
    private const int BufferBytes = 1 << 20;

    private SourceDigest(long length, ChunkHash sha256, byte[]? md5, List<byte[]> blockMd5s)
    {
        Length = length;
        Sha256 = sha256;
        Md5 = md5;
        BlockMd5s = blockMd5s;
    }

    public long Length { get; }

    public ChunkHash Sha256 { get; }

    /// <summary>MD5 of the whole source, when asked for.</summary>
    public byte[]? Md5 { get; }

    /// <summary>MD5 of each block, when a block size was given; the last block may be shorter.</summary>
    public IReadOnlyList<byte[]> BlockMd5s { get; }

    public static async Task<SourceDigest> ComputeAsync(Stream source, long expectedLength, bool md5, long blockBytes, CancellationToken cancellationToken)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var whole = md5 ? IncrementalHash.CreateHash(HashAlgorithmName.MD5) : null;
        using var block = blockBytes > 0 ? IncrementalHash.CreateHash(HashAlgorithmName.MD5) : null;
        var blocks = new List<byte[]>();
        long inBlock = 0;
        var buffer = ArrayPool<byte>.Shared.Rent(BufferBytes);
        try
        {
            long length = 0;
            var limit = expectedLength + 1;
            while (length < limit)
            {
                var want = (int)Math.Min(buffer.Length, limit - length);
                var read = await source.ReadAsync(buffer.AsMemory(0, want), cancellationToken);
                if (read == 0)
                    break;
                sha.AppendData(buffer, 0, read);
                whole?.AppendData(buffer, 0, read);
                if (block is not null)
                {
                    var at = 0;
                    while (at < read)
                    {
                        var take = (int)Math.Min(read - at, blockBytes - inBlock);
                        block.AppendData(buffer, at, take);
                        at += take;
                        inBlock += take;
                        if (inBlock == blockBytes)
                        {
                            blocks.Add(block.GetHashAndReset());
                            inBlock = 0;
                        }
                    }
                }
                length += read;
            }
            if (block is not null && inBlock > 0)
                blocks.Add(block.GetHashAndReset());
            return new SourceDigest(length, ChunkHash.From(sha), whole?.GetHashAndReset(), blocks);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Throws <see cref="ArchiveIntegrityException"/> unless the source was exactly what the caller expected.</summary>
    public void EnsureMatches(string blob, long expectedLength, ChunkHash expectedHash)
    {
        if (Length != expectedLength)
        {
            var held = Length > expectedLength ? $"more than {expectedLength}" : Length.ToString(System.Globalization.CultureInfo.InvariantCulture);
            throw new ArchiveIntegrityException($"Upload of {blob} refused: the source holds {held} bytes; expected {expectedLength}. Nothing was stored.");
        }
        if (Sha256 != expectedHash)
            throw new ArchiveIntegrityException($"Upload of {blob} refused: the source's SHA-256 is {Sha256}; expected {expectedHash}. Nothing was stored.");
    }
}
