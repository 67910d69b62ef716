using System.Text;

namespace OrleansBus.Silo.Tests.Api;

/// <summary>
/// Every folder and file under a root, with file lengths. The silo's own bookkeeping files are left out:
/// SQLite's <c>-wal</c>/<c>-shm</c> come and go with its connection pool and checkpoints, and the database
/// and lock file change size on their own schedule (so only their presence counts; the catalog's content is
/// checked through the API instead). Two snapshots differ when a request created, deleted or grew anything
/// else — the proof that a refused request left no trace on disk.
/// </summary>
public sealed class DataDirSnapshot
{
    private readonly SortedDictionary<string, long> _entries;

    private DataDirSnapshot(string root, SortedDictionary<string, long> entries)
    {
        Root = root;
        _entries = entries;
    }

    public string Root { get; }

    public static DataDirSnapshot Take(string root)
    {
        var entries = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var path in Directory.EnumerateFileSystemEntries(root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
        {
            var relative = Path.GetRelativePath(root, path);
            if (IsTransientMetadata(relative))
                continue;
            var isDirectory = Directory.Exists(path);
            var length = isDirectory || IsMetadata(relative) ? -1 : new FileInfo(path).Length;
            entries[isDirectory ? relative + "/" : relative] = length;
        }
        return new DataDirSnapshot(root, entries);
    }

    /// <summary>Fails naming every entry that appeared, vanished or changed length since <paramref name="before"/>.</summary>
    public static void AssertUnchanged(DataDirSnapshot before, DataDirSnapshot after, string because)
    {
        var differences = new StringBuilder();
        foreach (var (path, length) in after._entries)
        {
            if (!before._entries.TryGetValue(path, out var old))
                differences.Append("\n  new: ").Append(path);
            else if (old != length)
                differences.Append("\n  changed: ").Append(path).Append(' ').Append(old).Append(" -> ").Append(length).Append(" bytes");
        }
        foreach (var path in before._entries.Keys)
        {
            if (!after._entries.ContainsKey(path))
                differences.Append("\n  gone: ").Append(path);
        }
        Assert.True(differences.Length == 0, $"{because}: the tree under {before.Root} changed:{differences}");
    }

    // Only beside the data directory's own metadata.db: the same names under categories/ would be a finding.
    private static bool IsTransientMetadata(string relative) =>
        !relative.Contains("categories", StringComparison.Ordinal)
        && Path.GetFileName(relative) is "metadata.db-wal" or "metadata.db-shm" or "metadata.db-journal";

    private static bool IsMetadata(string relative) =>
        Path.GetFileName(relative).StartsWith("metadata.db", StringComparison.Ordinal) || Path.GetFileName(relative) == ".lock";
}

/// <summary>Bounded waits for asynchronous effects (sealing), failing with what never happened.</summary>
public static class Eventually
{
    /// <summary>
    /// Probes every 20 ms until <paramref name="done"/> holds or the timeout (default 5 s) passes; then fails
    /// with <paramref name="never"/>, which describes what never happened given the last value seen.
    /// </summary>
    public static async Task<T> WaitForAsync<T>(Func<Task<T>> probe, Func<T, bool> done, Func<T, string> never, TimeSpan? timeout = null)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(5);
        var deadline = DateTime.UtcNow + limit;
        while (true)
        {
            var value = await probe();
            if (done(value))
                return value;
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"Within {limit.TotalSeconds:0.#} s, {never(value)}");
            await Task.Delay(TimeSpan.FromMilliseconds(20));
        }
    }
}
