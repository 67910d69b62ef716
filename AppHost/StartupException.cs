namespace OrleansBus.AppHost;

/// <summary>The cluster cannot start, for a reason the message states for the user (what to install, which log).</summary>
internal sealed class StartupException : Exception
{
    public StartupException(string message) : base(message)
    {
    }

    public StartupException(string message, Exception inner) : base(message, inner)
    {
    }

    public StartupException()
    {
    }
}
