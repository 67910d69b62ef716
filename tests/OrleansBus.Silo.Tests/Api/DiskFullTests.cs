using System.Diagnostics;
using System.Net;
using OrleansBus.Contracts;
using static OrleansBus.Silo.Tests.Api.SiloHttp;

namespace OrleansBus.Silo.Tests.Api;

/// <summary>
/// A silo whose data directory is a small tmpfs: once the chunk write hits ENOSPC the produce must answer
/// 507 <c>disk_full</c> and nothing of that batch may be visible or kept. The catalog (SQLite) lives on the
/// same tmpfs; it is only written when a category or chunk is created or sealed, so filling the disk with
/// appends to one open chunk makes the chunk data write — not the catalog — the one that runs out of room.
/// Needs root (mount) and tmpfs; fails, never skips, when they are missing.
/// </summary>
public sealed class DiskFullTests
{
    private const int KiB = 1024;
    private const string TmpfsSize = "8m";
    private const long StopFillingBelowBytes = 384 * KiB;

    [Fact]
    public async Task Produce_that_does_not_fit_on_the_disk_is_507_disk_full_and_only_acknowledged_bytes_remain()
    {
        await using var tmpfs = await Tmpfs.MountAsync(TmpfsSize);
        await using var silo = SiloApiFactory.OnDataDir(Path.Combine(tmpfs.Path, "data"));
        var client = silo.CreateClient();
        var category = "filled";
        var (chunk, acknowledged, messages) = await FillAsync(client, category, tmpfs);

        var free = tmpfs.AvailableBytes;
        var tooBig = Lines((int)((free + (512 * KiB)) / KiB) + 1, KiB, (byte)'Z');
        using var refused = await PostRawAsync(client, category, tooBig);

        await AssertProblemAsync(refused, HttpStatusCode.InsufficientStorage, BusErrorCodes.DiskFull);
        var listed = Assert.Single(await ListChunksAsync(client, category));
        Assert.Equal(new ChunkInfo(chunk, "silo1", "active", acknowledged.Length, messages), listed);
        Assert.Equal(acknowledged, await ReadAllAsync(client, category, chunk, acknowledged.Length, maxBytes: 1024 * KiB));
        Assert.Equal(acknowledged.Length, new FileInfo(Path.Combine(silo.CategoriesDir, category, chunk)).Length);

        // The writer carries on: a batch that fits lands right after the last acknowledged byte.
        var after = await ProduceAsync(client, category, "after\n");
        Assert.Equal((chunk, (long)acknowledged.Length), (after.Chunk, after.Offset));
        Assert.Equal("after\n"u8.ToArray(), (await ReadAsync(client, category, chunk, acknowledged.Length)).Bytes);
    }

    [Fact]
    public async Task Produce_to_a_new_category_that_does_not_fit_on_the_disk_is_507_and_creates_no_category()
    {
        await using var tmpfs = await Tmpfs.MountAsync(TmpfsSize);
        await using var silo = SiloApiFactory.OnDataDir(Path.Combine(tmpfs.Path, "data"));
        var client = silo.CreateClient();
        var (chunk, acknowledged, messages) = await FillAsync(client, "filled", tmpfs);

        var free = tmpfs.AvailableBytes;
        using var refused = await PostRawAsync(client, "fresh", Lines((int)((free + (512 * KiB)) / KiB) + 1, KiB, (byte)'Z'));

        await AssertProblemAsync(refused, HttpStatusCode.InsufficientStorage, BusErrorCodes.DiskFull);
        var names = (await ListCategoriesAsync(client)).Select(c => c.Name).ToArray();
        var left = names.Contains("fresh")
            ? string.Join(", ", (await ListChunksAsync(client, "fresh")).Select(c => $"{c.Name} {c.State} {c.Size}B/{c.Messages}"))
            : "";
        Assert.True(names.SequenceEqual(["filled"]),
            $"The refused produce left the category 'fresh' behind with chunks [{left}]; categories now: {string.Join(", ", names)}.");
        Assert.False(Directory.Exists(Path.Combine(silo.CategoriesDir, "fresh")), "A folder for the refused category 'fresh' was left on disk.");
        Assert.Equal(new ChunkInfo(chunk, "silo1", "active", acknowledged.Length, messages), Assert.Single(await ListChunksAsync(client, "filled")));
    }

    /// <summary>Appends 64 KiB batches (64 messages each, a different byte per batch) until the tmpfs is nearly full.</summary>
    private static async Task<(string Chunk, byte[] Acknowledged, long Messages)> FillAsync(HttpClient client, string category, Tmpfs tmpfs)
    {
        using var acknowledged = new MemoryStream();
        long messages = 0;
        string? chunk = null;
        var batches = 0;
        while (tmpfs.AvailableBytes > StopFillingBelowBytes)
        {
            Assert.True(++batches < 1000, $"The tmpfs at {tmpfs.Path} never filled up: {tmpfs.AvailableBytes} bytes still free.");
            var body = Lines(64, KiB, (byte)('a' + (batches % 26)));
            var result = await ProduceAsync(client, category, body);
            chunk ??= result.Chunk;
            Assert.Equal((chunk, acknowledged.Length), (result.Chunk, result.Offset));
            acknowledged.Write(body);
            messages += result.Messages;
        }
        // Most of the 8 MiB must hold chunk data, or the catalog rather than the chunk would meet the limit.
        Assert.True(acknowledged.Length > 6 * 1024 * KiB, $"Only {acknowledged.Length} bytes of chunk data fit on the {TmpfsSize} tmpfs.");
        return (chunk!, acknowledged.ToArray(), messages);
    }

    /// <summary>A tmpfs of a fixed size mounted on a fresh folder; unmounted and removed on dispose.</summary>
    private sealed class Tmpfs : IAsyncDisposable
    {
        private Tmpfs(string path) => Path = path;

        public string Path { get; }

        public long AvailableBytes => new DriveInfo(Path).AvailableFreeSpace;

        public static async Task<Tmpfs> MountAsync(string size)
        {
            var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "obus-tests", "tmpfs-" + Guid.NewGuid().ToString("N")[..12]);
            Directory.CreateDirectory(path);
            var (exitCode, output) = await RunAsync("mount", "-t", "tmpfs", "-o", $"size={size}", "tmpfs", path);
            if (exitCode != 0)
            {
                Directory.Delete(path);
                Assert.Fail($"This test needs root and tmpfs: 'mount -t tmpfs -o size={size} tmpfs {path}' exited with {exitCode}: {output.Trim()}. " +
                    "Run the tests as root (or with CAP_SYS_ADMIN) on Linux.");
            }
            return new Tmpfs(path);
        }

        public async ValueTask DisposeAsync()
        {
            var (exitCode, output) = await RunAsync("umount", Path);
            if (exitCode != 0)
            {
                // Something still holds a file open: detach now, the kernel frees it when the last handle goes.
                var (lazyExit, lazyOutput) = await RunAsync("umount", "-l", Path);
                Assert.True(lazyExit == 0, $"Could not unmount the tmpfs at {Path}: {output.Trim()} / {lazyOutput.Trim()}");
            }
            Directory.Delete(Path);
        }

        private static async Task<(int ExitCode, string Output)> RunAsync(string fileName, params string[] arguments)
        {
            var startInfo = new ProcessStartInfo(fileName)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var argument in arguments)
                startInfo.ArgumentList.Add(argument);
            using var process = new Process { StartInfo = startInfo };
            try
            {
                process.Start();
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                return (-1, $"cannot start {fileName}: {e.Message}");
            }
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
            var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
            await process.WaitForExitAsync(timeout.Token);
            return (process.ExitCode, await stdout + await stderr);
        }
    }
}
