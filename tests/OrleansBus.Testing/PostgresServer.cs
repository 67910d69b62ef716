using Npgsql;

namespace OrleansBus.Testing;

/// <summary>
/// A real, throwaway PostgreSQL cluster (<c>initdb</c> + <c>pg_ctl</c>) on a free loopback port, with
/// durability switched off for speed. As root it runs the tools as the <c>postgres</c> OS user, because
/// PostgreSQL refuses to run as root. Methods are not meant to be called concurrently, except
/// <see cref="CreateDatabaseAsync"/>, which many test classes call at once on <see cref="SharedAsync"/>.
/// </summary>
public sealed partial class PostgresServer : IAsyncDisposable
{
    private static readonly TimeSpan ToolTimeout = TimeSpan.FromSeconds(60);
    private readonly string _binDir;
    private readonly bool _asPostgresUser = !OperatingSystem.IsWindows() && Environment.IsPrivilegedProcess;
    private readonly bool _isShared;
    private readonly TempDirectory _dir = new("pg");
    private readonly List<string> _databases = [];
    private bool _initialized;
    private bool _startedOnce;

    public PostgresServer() : this(isShared: false)
    {
    }

    private PostgresServer(bool isShared)
    {
        _isShared = isShared;
        _binDir = FindBinaries();
        Port = FreePort.Get();
    }

    /// <summary>The port; it may change only if the very first start finds it taken.</summary>
    public int Port { get; private set; }

    public bool IsRunning { get; private set; }

    public string DataDir => Path.Combine(_dir.Path, "pg");

    public string LogPath => Path.Combine(_dir.Path, "pg.log");

    /// <summary>Creates and starts a private server; use this (not the shared one) to stop or restart it.</summary>
    public static async Task<PostgresServer> StartNewAsync(CancellationToken cancellationToken = default)
    {
        var server = new PostgresServer();
        try
        {
            await server.StartAsync(cancellationToken);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    public string ConnectionString(string database) =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database};Pooling=true";

    /// <summary>Creates <paramref name="name"/> and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string name, CancellationToken cancellationToken = default)
    {
        // Unpooled: an idle admin connection would count against max_connections for the whole run.
        await using (var connection = new NpgsqlConnection(ConnectionString("postgres") + ";Pooling=false"))
        {
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name.Replace("\"", "\"\"", StringComparison.Ordinal)}\"", connection);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        lock (_databases)
        {
            _databases.Add(name);
        }
        return ConnectionString(name);
    }

    /// <summary>Initializes the cluster on first use, then starts it (no-op if running).</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (IsRunning)
        {
            return;
        }
        if (!_initialized)
        {
            await InitAsync(cancellationToken);
        }
        // A free port can be taken between FreePort.Get and the bind; only the first start may move.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await RunToolAsync("pg_ctl", ["-D", DataDir, "-l", LogPath, "-w", "-t", "30", "-o", ServerOptions(), "start"], cancellationToken);
                break;
            }
            catch (InvalidOperationException) when (!_startedOnce && attempt < 3 && LogTail().Contains("could not bind", StringComparison.Ordinal))
            {
                Port = FreePort.Get();
            }
            catch (InvalidOperationException ex)
            {
                throw new InvalidOperationException($"{ex.Message}\nServer log {LogPath}, last lines:\n{LogTail()}", ex);
            }
        }
        _startedOnce = true;
        IsRunning = true;
    }

    /// <summary><c>pg_ctl stop -m fast</c>: disconnects every client, then shuts down cleanly.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfShared();
        await StopCoreAsync(cancellationToken);
    }

    /// <summary>Stop then start, same port and data: clients see their connections drop.</summary>
    public async Task RestartAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfShared();
        await StopCoreAsync(cancellationToken);
        await StartAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (_isShared)
        {
            return; // stopped at process exit; other test classes still use it
        }
        try
        {
            await StopCoreAsync(CancellationToken.None);
        }
        finally
        {
            _dir.Dispose();
        }
    }

    private async Task InitAsync(CancellationToken cancellationToken)
    {
        if (_asPostgresUser)
        {
            EnsurePostgresUser();
            // The postgres user must be able to reach its folder even if root's umask hid obus-tests/.
            var parent = Path.GetDirectoryName(_dir.Path)!;
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(parent, File.GetUnixFileMode(parent) | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
            }
            await ExternalCommand.RunAsync("chown", ["-R", "postgres:postgres", _dir.Path], ToolTimeout, cancellationToken);
        }
        await RunToolAsync("initdb", ["-D", DataDir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"], cancellationToken);
        _initialized = true;
    }

    private async Task StopCoreAsync(CancellationToken cancellationToken)
    {
        if (!IsRunning)
        {
            return;
        }
        await RunToolAsync("pg_ctl", ["-D", DataDir, "-m", "fast", "-w", "-t", "30", "stop"], cancellationToken);
        IsRunning = false;
        ClearPools();
    }

    // Pooled connections of this process point at the dead server; drop them so the next Open reconnects.
    private void ClearPools()
    {
        string[] databases;
        lock (_databases)
        {
            databases = [.. _databases];
        }
        foreach (var database in databases)
        {
            using var connection = new NpgsqlConnection(ConnectionString(database));
            NpgsqlConnection.ClearPool(connection);
        }
    }

    // pg_ctl hands -o to /bin/sh, hence the quoted socket directory.
    private string ServerOptions() =>
        $"-c listen_addresses=127.0.0.1 -p {Port} -k '{_dir.Path}' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200";

    private Task<string> RunToolAsync(string tool, string[] arguments, CancellationToken cancellationToken)
    {
        var path = Path.Combine(_binDir, tool);
        return _asPostgresUser
            ? ExternalCommand.RunAsync(RunUser, ["-u", "postgres", "--", path, .. arguments], ToolTimeout, cancellationToken)
            : ExternalCommand.RunAsync(path, arguments, ToolTimeout, cancellationToken);
    }

    private string LogTail()
    {
        try
        {
            var lines = File.ReadAllLines(LogPath);
            return string.Join('\n', lines[Math.Max(0, lines.Length - 40)..]);
        }
        catch (IOException)
        {
            return "(no server log)";
        }
    }

    private void ThrowIfShared()
    {
        if (_isShared)
        {
            throw new InvalidOperationException(
                "The shared PostgreSQL server serves every test class; use PostgresServer.StartNewAsync() for a server you can stop or restart.");
        }
    }
}
