using System.Security.Cryptography;
using OrleansBus.Silo.Archive;
using OrleansBus.Testing;

namespace OrleansBus.Silo.Tests.Archive;

public sealed class ChunkHashTests
{
    [Fact]
    public void The_hash_of_abc_is_the_published_sha256_vector()
    {
        // FIPS 180-2 example: SHA-256("abc").
        Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", ChunkHash.Compute("abc"u8).ToString());
    }

    [Fact]
    public async Task A_file_hash_equals_the_hash_of_its_bytes_and_parses_back()
    {
        using var dir = new TempDirectory("hash");
        var bytes = RandomNumberGenerator.GetBytes((3 << 20) + 17);
        var path = dir.Combine("f");
        await File.WriteAllBytesAsync(path, bytes);

        var (length, hash) = await ChunkHash.ComputeFileAsync(path, CancellationToken.None);

        Assert.Equal((bytes.LongLength, ChunkHash.Compute(bytes)), (length, hash));
        Assert.True(ChunkHash.TryParse(hash.ToString().ToUpperInvariant(), out var parsed));
        Assert.Equal(hash, parsed);
        Assert.False(ChunkHash.TryParse("xyz", out _));
        Assert.False(ChunkHash.TryParse(new string('g', 64), out _));
    }
}
