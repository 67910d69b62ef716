using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace OrleansBus.Silo.Storage;

/// <summary>
/// fdatasync for chunk and index files. .NET only offers fsync (FileStream.Flush(true)), which also
/// writes back inode times; fdatasync skips that and is what "durability=fsync" promises.
/// </summary>
internal static partial class NativeFile
{
    [LibraryImport("libc", SetLastError = true)]
    private static partial int fdatasync(int fd);

    public static void DataSync(SafeFileHandle handle)
    {
        if (!OperatingSystem.IsLinux())
        {
            RandomAccess.FlushToDisk(handle);
            return;
        }
        var added = false;
        handle.DangerousAddRef(ref added);
        try
        {
            if (fdatasync((int)handle.DangerousGetHandle()) != 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                throw new IOException($"fdatasync failed with errno {errno}.", errno);
            }
        }
        finally
        {
            if (added)
                handle.DangerousRelease();
        }
    }

    /// <summary>ENOSPC (28) and EDQUOT (122) on Linux: the write cannot fit on the disk.</summary>
    public static bool IsDiskFull(IOException exception) =>
        exception.HResult is 28 or 122 or unchecked((int)0x80070070)
        || exception.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase)
        || exception.Message.Contains("quota", StringComparison.OrdinalIgnoreCase);
}
