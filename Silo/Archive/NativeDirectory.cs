using System.Runtime.InteropServices;

namespace OrleansBus.Silo.Archive;

/// <summary>
/// fsync of a directory, so a link or unlink inside it survives a power cut. .NET cannot open a
/// directory as a file, hence open(O_RDONLY) + fsync through libc. A no-op off Linux.
/// </summary>
internal static partial class NativeDirectory
{
    // O_RDONLY alone: Linux opens a directory read-only without O_DIRECTORY, whose value differs per
    // architecture (0x10000 on x64, 0x4000 on arm64). The caller passes a directory it just used.
    private const int ReadOnly = 0;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "link", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Link(string existing, string created);

    private const int AlreadyExists = 17; // EEXIST

    /// <summary>
    /// Gives <paramref name="existing"/> the name <paramref name="created"/> unless that name exists: link(2) checks
    /// and creates in one step, so of two concurrent writers exactly one wins. (File.Move without overwrite checks
    /// first and renames after, and two writers can both "win".) False when the name exists. Off Linux: File.Move.
    /// </summary>
    public static bool TryLinkNoReplace(string existing, string created)
    {
        if (!OperatingSystem.IsLinux())
        {
            try
            {
                File.Move(existing, created, overwrite: false);
                return true;
            }
            catch (IOException) when (File.Exists(created))
            {
                return false;
            }
        }
        if (Link(existing, created) == 0)
            return true;
        var errno = Marshal.GetLastPInvokeError();
        if (errno == AlreadyExists)
            return false;
        throw new IOException($"link({existing}, {created}) failed with errno {errno}.", errno);
    }

    public static void Sync(string path)
    {
        if (!OperatingSystem.IsLinux())
            return;
        var fd = Open(path, ReadOnly);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new IOException($"open({path}) for fsync failed with errno {errno}.", errno);
        }
        try
        {
            if (Fsync(fd) != 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                throw new IOException($"fsync({path}) failed with errno {errno}.", errno);
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }
}
