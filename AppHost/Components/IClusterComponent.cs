namespace OrleansBus.AppHost.Components;

/// <summary>One running part of the cluster: what the endpoint list prints and what shutdown stops.</summary>
internal interface IClusterComponent
{
    /// <summary>Short name: <c>postgres</c>, <c>azurite</c>, <c>silo1</c>, <c>gateway</c>.</summary>
    string Name { get; }

    /// <summary>Where clients reach it (a URL, or a connection string for PostgreSQL).</summary>
    string Endpoint { get; }

    /// <summary>The PID this launcher started (for the postmaster: the one pg_ctl started for us).</summary>
    int Pid { get; }

    string LogPath { get; }

    /// <summary>Completes when the process has ended; before a requested stop that means it died.</summary>
    Task Exited { get; }

    /// <summary>Stops it gracefully (forcefully after a timeout) and says how it ended.</summary>
    Task<string> StopAsync();
}
