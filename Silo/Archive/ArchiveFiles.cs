namespace OrleansBus.Silo.Archive;

/// <summary>File steps both archives share: opening an upload source and replacing a cache file whole.</summary>
internal static class ArchiveFiles
{
    /// <summary>Opens an upload source for one sequential read; a missing file is a source that does not match.</summary>
    public static FileStream OpenSource(string path, string blob)
    {
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan | FileOptions.Asynchronous);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ArchiveIntegrityException($"Upload of {blob} refused: the source {path} does not exist. Nothing was stored.", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ArchiveException($"Upload of {blob} failed: cannot open the source {path}: {e.Message}", e);
        }
    }

    /// <summary>SHA-256 of an upload source from its current position to its end; the position is restored.</summary>
    public static async Task<ChunkHash> HashSourceAsync(Stream source, CancellationToken cancellationToken)
    {
        var start = source.Position;
        var (_, hash) = await ChunkHash.ComputeAsync(source, cancellationToken);
        source.Position = start;
        return hash;
    }

    /// <summary>
    /// Writes a new file through <paramref name="write"/> into a temporary name beside <paramref name="path"/>,
    /// flushes it to disk, then renames it over <paramref name="path"/>, so a reader of the path sees the old
    /// file or the whole new one. <paramref name="write"/> returns the length it wrote and may throw to abandon.
    /// </summary>
    public static async Task<long> ReplaceAsync(string path, Func<FileStream, CancellationToken, Task<long>> write, CancellationToken cancellationToken)
    {
        var full = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(directory);
        var temp = $"{full}.download-{Guid.NewGuid():N}";
        try
        {
            long length;
            await using (var output = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous))
            {
                length = await write(output, cancellationToken);
                if (output.Length != length)
                    throw new ArchiveIntegrityException($"Download to {full} wrote {output.Length} bytes; expected {length}.");
                output.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
            NativeDirectory.Sync(directory);
            return length;
        }
        finally
        {
            TryDelete(temp);
        }
    }

    public static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
