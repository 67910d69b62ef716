using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;

namespace OrleansBus.Silo.Archive;

/// <summary>
/// The SHA-256 of a whole sealed chunk: what decides, in the archive, whether two copies are the same
/// chunk (see <see cref="IChunkArchive"/> for why SHA-256). A value type with value equality; the
/// default value is the hash of nothing in particular and is never produced by <see cref="Compute"/>.
/// </summary>
public readonly record struct ChunkHash
{
    public const int Bytes = 32;
    private readonly ulong _a;
    private readonly ulong _b;
    private readonly ulong _c;
    private readonly ulong _d;

    private ChunkHash(ulong a, ulong b, ulong c, ulong d)
    {
        _a = a;
        _b = b;
        _c = c;
        _d = d;
    }

    public static ChunkHash FromBytes(ReadOnlySpan<byte> sha256)
    {
        if (sha256.Length != Bytes)
            throw new ArgumentException($"A SHA-256 has {Bytes} bytes, not {sha256.Length}.", nameof(sha256));
        return new ChunkHash(
            BinaryPrimitives.ReadUInt64BigEndian(sha256),
            BinaryPrimitives.ReadUInt64BigEndian(sha256[8..]),
            BinaryPrimitives.ReadUInt64BigEndian(sha256[16..]),
            BinaryPrimitives.ReadUInt64BigEndian(sha256[24..]));
    }

    public static ChunkHash Compute(ReadOnlySpan<byte> data)
    {
        Span<byte> hash = stackalloc byte[Bytes];
        SHA256.HashData(data, hash);
        return FromBytes(hash);
    }

    /// <summary>Length and hash of a whole file, read once sequentially.</summary>
    public static async Task<(long Length, ChunkHash Hash)> ComputeFileAsync(string path, CancellationToken cancellationToken)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan | FileOptions.Asynchronous);
        return await ComputeAsync(file, cancellationToken);
    }

    /// <summary>Length and hash of a stream from its position to its end, read once sequentially.</summary>
    public static async Task<(long Length, ChunkHash Hash)> ComputeAsync(Stream source, CancellationToken cancellationToken)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            long length = 0;
            int read;
            while ((read = await source.ReadAsync(buffer, cancellationToken)) > 0)
            {
                sha.AppendData(buffer, 0, read);
                length += read;
            }
            return (length, From(sha));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Parses 64 hex digits (either case); false for anything else.</summary>
    public static bool TryParse(string? hex, out ChunkHash hash)
    {
        hash = default;
        if (hex is null || hex.Length != Bytes * 2)
            return false;
        Span<byte> bytes = stackalloc byte[Bytes];
        if (Convert.FromHexString(hex, bytes, out _, out var written) != OperationStatus.Done || written != Bytes)
            return false;
        hash = FromBytes(bytes);
        return true;
    }

    public void CopyTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, _a);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], _b);
        BinaryPrimitives.WriteUInt64BigEndian(destination[16..], _c);
        BinaryPrimitives.WriteUInt64BigEndian(destination[24..], _d);
    }

    /// <summary>64 lower-case hex digits (also the blob metadata value).</summary>
    public override string ToString()
    {
        Span<byte> bytes = stackalloc byte[Bytes];
        CopyTo(bytes);
        return Convert.ToHexStringLower(bytes);
    }

    internal static ChunkHash From(IncrementalHash sha256)
    {
        Span<byte> hash = stackalloc byte[Bytes];
        sha256.GetHashAndReset(hash);
        return FromBytes(hash);
    }
}
