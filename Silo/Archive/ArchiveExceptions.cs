namespace OrleansBus.Silo.Archive;

/// <summary>
/// An archive operation failed for a reason retrying will not fix by itself (bad credentials, a refused
/// request, a broken store). Subclasses say more; see <see cref="IChunkArchive"/> for what each means.
/// </summary>
public class ArchiveException : Exception
{
    public ArchiveException()
    {
    }

    public ArchiveException(string message) : base(message)
    {
    }

    public ArchiveException(string message, Exception? innerException) : base(message, innerException)
    {
    }
}

/// <summary>
/// The store could not be reached or answered "try later": connection refused or reset, a timeout,
/// HTTP 5xx, 408 or 429, a full disk. Nothing is known to have changed; retry the same call with backoff.
/// </summary>
public sealed class ArchiveUnavailableException : ArchiveException
{
    public ArchiveUnavailableException()
    {
    }

    public ArchiveUnavailableException(string message) : base(message)
    {
    }

    public ArchiveUnavailableException(string message, Exception? innerException) : base(message, innerException)
    {
    }
}

/// <summary>
/// The name already holds a different chunk (other length or hash). The stored copy was left as it was.
/// Data is at risk: do not mark the local chunk archived, do not delete it, and alert an operator.
/// </summary>
public sealed class ArchiveConflictException : ArchiveException
{
    public ArchiveConflictException()
    {
    }

    public ArchiveConflictException(string message) : base(message)
    {
    }

    public ArchiveConflictException(string message, Exception? innerException) : base(message, innerException)
    {
    }
}

/// <summary>The chunk is not in the archive.</summary>
public sealed class ArchiveNotFoundException : ArchiveException
{
    public ArchiveNotFoundException()
    {
    }

    public ArchiveNotFoundException(string message) : base(message)
    {
    }

    public ArchiveNotFoundException(string message, Exception? innerException) : base(message, innerException)
    {
    }
}

/// <summary>
/// Bytes did not match what was expected: the upload source is not the expected length or hash, the
/// store rejected a body whose MD5 did not match (corrupted in transit), or a read-back did not verify.
/// An upload that throws this stored nothing. A retry re-reads the source, so it succeeds after a
/// transient corruption and fails again when the local file itself is wrong (quarantine it then).
/// </summary>
public sealed class ArchiveIntegrityException : ArchiveException
{
    public ArchiveIntegrityException()
    {
    }

    public ArchiveIntegrityException(string message) : base(message)
    {
    }

    public ArchiveIntegrityException(string message, Exception? innerException) : base(message, innerException)
    {
    }
}
