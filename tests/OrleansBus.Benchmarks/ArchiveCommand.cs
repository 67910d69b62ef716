using System.Diagnostics;
using System.Globalization;
using OrleansBus.Silo.Archive;
using OrleansBus.Silo.Archive.Blob;
using OrleansBus.Testing;

namespace OrleansBus.Benchmarks;

/// <summary>
/// <c>archive [--chunks N] [--chunk-mib M]</c>: the blob tier alone against a fresh Azurite (from <c>OBUS_AZURITE</c>,
/// as the tests start it): uploads N sealed-chunk files of M MiB through <see cref="BlobArchive"/> one after another,
/// then reads each back cold — whole (<c>DownloadToFileAsync</c>, what the local cache does) and in 1 MiB ranges
/// (<c>ReadAsync</c>, what a raw read of an archived chunk does) — and checks every byte. Prints MiB/s per phase.
/// </summary>
internal static class ArchiveCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var chunks = 4;
        var chunkMiB = 64;
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--chunks": chunks = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--chunk-mib": chunkMiB = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                default:
                    await Console.Error.WriteLineAsync($"archive: unknown option {args[i]} (--chunks N, --chunk-mib M)");
                    return 2;
            }
        }
        await using var azurite = await AzuriteServer.StartNewAsync();
        using var dir = new TempDirectory("archive-bench");
        using var archive = new BlobArchive(new BlobArchiveOptions
        {
            ServiceUri = new Uri(azurite.BlobEndpoint),
            AccountName = AzuriteServer.AccountName,
            AccountKey = AzuriteServer.AccountKey,
            Container = "bench" + Guid.NewGuid().ToString("N")[..12],
        });
        var files = new List<(string Chunk, string Path, byte[] Bytes)>();
        var random = new Random(42);
        for (var i = 0; i < chunks; i++)
        {
            var bytes = new byte[chunkMiB << 20];
            random.NextBytes(bytes);
            for (var p = 99; p < bytes.Length; p += 100)
                bytes[p] = (byte)'\n';
            bytes[^1] = (byte)'\n';
            var path = dir.Combine($"s1-chunk{i:000000000}");
            await File.WriteAllBytesAsync(path, bytes);
            files.Add(($"s1-chunk{i:000000000}", path, bytes));
        }
        var total = (double)chunks * chunkMiB;

        var clock = Stopwatch.StartNew();
        foreach (var (chunk, path, bytes) in files)
            await archive.UploadAsync("bench", chunk, path, bytes.Length, ChunkHash.Compute(bytes), CancellationToken.None);
        Report("upload", total, clock.Elapsed);

        clock.Restart();
        foreach (var (chunk, _, bytes) in files)
        {
            var copy = dir.Combine(chunk + ".cold");
            await archive.DownloadToFileAsync("bench", chunk, copy, CancellationToken.None);
            if (!(await File.ReadAllBytesAsync(copy)).AsSpan().SequenceEqual(bytes))
                throw new InvalidDataException($"The downloaded {chunk} differs from what was uploaded.");
            File.Delete(copy);
        }
        Report("cold download", total, clock.Elapsed);

        clock.Restart();
        var buffer = new byte[1 << 20];
        foreach (var (chunk, _, bytes) in files)
        {
            for (long offset = 0; offset < bytes.Length;)
            {
                var read = await archive.ReadAsync("bench", chunk, offset, buffer, CancellationToken.None);
                if (read == 0 || !buffer.AsSpan(0, read).SequenceEqual(bytes.AsSpan((int)offset, read)))
                    throw new InvalidDataException($"The 1 MiB read of {chunk} at {offset} came back wrong.");
                offset += read;
            }
        }
        Report("cold 1 MiB reads", total, clock.Elapsed);
        return 0;
    }

    private static void Report(string phase, double mib, TimeSpan elapsed) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"archive {phase,-18} {mib,8:0} MiB {elapsed.TotalSeconds,7:0.00} s {mib / elapsed.TotalSeconds,8:0.0} MiB/s"));
}
