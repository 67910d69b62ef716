using System.Collections.Concurrent;
using OrleansBus.Silo.Metadata;

namespace OrleansBus.Silo.Storage;

public sealed partial class LogStore
{
    private readonly ConcurrentDictionary<string, Task> _drops = new(StringComparer.Ordinal);

    /// <summary>
    /// The category is being deleted: it leaves this silo's list at once, so from now on a write finds no category and asks
    /// the category grain, which refuses (409 <c>category_deleting</c>). The returned task deletes what this silo holds of
    /// it — the writer stops (an append already queued completes or fails), its chunks read as expired (nothing archives
    /// them any more), the chunk files and copies and archive downloads go — and completes when all of it is gone. Open
    /// handles close after a grace period, so a read under way finishes. A drop under way is shared.
    /// </summary>
    public Task Drop(string category)
    {
        if (_drops.TryGetValue(category, out var running))
            return running;
        _categories.TryRemove(category, out var log);
        var drop = _drops.GetOrAdd(category, _ => DropFilesAsync(category, log));
        _ = drop.ContinueWith(_ => _drops.TryRemove(new KeyValuePair<string, Task>(category, drop)), TaskScheduler.Default);
        return drop;
    }

    /// <summary>True while <paramref name="category"/> is being dropped here (an append that lost its writer says 409, not 503).</summary>
    internal bool IsDropping(string category) => _drops.ContainsKey(category);

    private async Task DropFilesAsync(string category, CategoryLog? log)
    {
        await Task.Yield();
        if (log is not null)
        {
            foreach (var chunk in log.Chunks)
                chunk.SetState(ChunkStates.Expired); // never archived, served or handed to a group again
            await log.CloseWriterAsync();
            _ = CloseChunksAfterGraceAsync(log);
        }
        DeleteCategoryFiles(category);
        Log.CategoryDropped(_logger, category);
    }

    /// <summary>The category's folder and its archive downloads. A folder already gone is fine (a second drop, a restart).</summary>
    private void DeleteCategoryFiles(string category)
    {
        foreach (var directory in (string[])[Path.Combine(CategoriesDir, category), Path.Combine(CacheDir, category)])
        {
            if (System.IO.Directory.Exists(directory))
                System.IO.Directory.Delete(directory, recursive: true);
        }
    }

    private async Task CloseChunksAfterGraceAsync(CategoryLog log)
    {
        await Task.Delay(ExpiredHandleGrace, _time);
        await log.DisposeAsync();
    }

    /// <summary>
    /// At start, after the catalog's categories are loaded: a folder of a category the catalog no longer names (deleted
    /// while this silo was down, or half-way through its drop) is deleted with its downloads, and in a category that was
    /// deleted and created again meanwhile, chunk files no catalog row names are deleted. Chunk names are never reused
    /// (sequence numbers outlive a category), so such a file can only be the deleted category's.
    /// </summary>
    private void DeleteFilesOfDeletedCategories(Dictionary<string, HashSet<string>> rowsByCategory)
    {
        foreach (var root in (string[])[CategoriesDir, CacheDir])
        {
            if (!System.IO.Directory.Exists(root))
                continue;
            foreach (var directory in System.IO.Directory.EnumerateDirectories(root))
            {
                var category = Path.GetFileName(directory);
                if (!rowsByCategory.TryGetValue(category, out var rows))
                {
                    System.IO.Directory.Delete(directory, recursive: true);
                    Log.DeletedCategoryFilesRemoved(_logger, category, directory);
                    continue;
                }
                foreach (var file in System.IO.Directory.EnumerateFiles(directory))
                {
                    var name = Path.GetFileName(file);
                    var chunk = name.EndsWith(".idx", StringComparison.Ordinal) ? name[..^4] : name;
                    if (ChunkName.TryParse(chunk, out _, out _) && !rows.Contains(chunk))
                    {
                        File.Delete(file);
                        Log.DeletedCategoryFilesRemoved(_logger, category, file);
                    }
                }
            }
        }
    }
}
