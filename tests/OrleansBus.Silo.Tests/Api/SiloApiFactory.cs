using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace OrleansBus.Silo.Tests.Api;

/// <summary>
/// Hosts the silo in-process on its own data directory, served by real Kestrel on an ephemeral loopback
/// port (WebApplicationFactory.UseKestrel). Kestrel rather than TestServer because the API's behaviour on
/// bad paths depends on the real server: Kestrel resolves dot segments and the silo's fallback reads the
/// raw request target (TestServer leaves <c>RawTarget</c> empty), Kestrel refuses some targets itself, and
/// only a real connection carries a chunked body. The factory owns a temporary root folder and puts the
/// data directory one level below it (<c>&lt;Root&gt;/data</c>), so a path-traversal bug that escapes the
/// data directory still lands inside a folder the tests walk. The root is deleted on dispose, after the
/// host has stopped. Safe to share between the tests of one class (each test uses its own categories).
/// </summary>
public class SiloApiFactory : WebApplicationFactory<Program>
{
    private readonly string? _ownedRoot;
    private readonly Dictionary<string, string> _settings = new(StringComparer.Ordinal);
    private TimeProvider? _time;
    private int _deleted;

    /// <summary>A silo on a fresh temporary data directory, deleted on dispose.</summary>
    public SiloApiFactory()
        : this(dataDir: null)
    {
    }

    private SiloApiFactory(string? dataDir)
    {
        if (dataDir is null)
        {
            _ownedRoot = Path.Combine(Path.GetTempPath(), "obus-tests", "api-" + Guid.NewGuid().ToString("N")[..12]);
            Directory.CreateDirectory(_ownedRoot);
            Root = _ownedRoot;
            DataDir = Path.Combine(_ownedRoot, "data");
        }
        else
        {
            Root = dataDir;
            DataDir = dataDir;
        }
        // Port 0: each factory gets its own port, so test classes run in parallel. Explicit endpoints
        // override the silo's default URL (127.0.0.1:8080).
        UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
    }

    /// <summary>A silo whose data directory is <paramref name="dataDir"/>; the caller owns (and deletes) it.</summary>
    public static SiloApiFactory OnDataDir(string dataDir, params (string Key, string Value)[] settings)
    {
        var factory = new SiloApiFactory(dataDir);
        foreach (var (key, value) in settings)
            factory._settings[key] = value;
        return factory;
    }

    /// <summary>A silo whose clock is <paramref name="time"/> (the TimeProvider every component takes), with these settings.</summary>
    public static SiloApiFactory WithClock(TimeProvider time, params (string Key, string Value)[] settings)
    {
        var factory = WithSettings(settings);
        factory._time = time;
        return factory;
    }

    /// <summary>A silo on a fresh temporary data directory with these configuration settings (<c>Bus:…</c>) besides.</summary>
    public static SiloApiFactory WithSettings(params (string Key, string Value)[] settings)
    {
        var factory = new SiloApiFactory();
        foreach (var (key, value) in settings)
            factory._settings[key] = value;
        return factory;
    }

    /// <summary>The folder the tests own and walk: the data directory's parent, or the data directory itself when supplied.</summary>
    public string Root { get; }

    /// <summary>The silo's <c>Bus:DataDir</c>.</summary>
    public string DataDir { get; }

    /// <summary><c>&lt;DataDir&gt;/categories</c>: one folder per category.</summary>
    public string CategoriesDir => Path.Combine(DataDir, "categories");

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        // Production, as `dotnet OrleansBus.Silo.dll` runs (the silo has no launch profile); WebApplicationFactory
        // would default to Development, which adds the developer exception page and other development-only behaviour.
        builder.UseEnvironment("Production");
        builder.UseSetting("Bus:DataDir", DataDir);
        foreach (var (key, value) in _settings)
            builder.UseSetting(key, value);
        if (_time is { } time)
            builder.ConfigureTestServices(services => services.AddSingleton(time));
        builder.ConfigureLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing && _ownedRoot is not null && Interlocked.Exchange(ref _deleted, 1) == 0)
        {
            try
            {
                Directory.Delete(_ownedRoot, recursive: true);
            }
            catch (IOException)
            {
                // Best effort: the OS cleans the temp folder.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }
}
