using System.Reflection;
using System.Runtime.InteropServices;
using OrleansBus.Testing;

namespace OrleansBus.Infra.Tests;

/// <summary>The Bicep CLI restored from NuGet (Azure.Bicep.CommandLine.linux-x64), run on the files under <c>infra/</c>.</summary>
internal static class Bicep
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    public static string InfraDir => Path.Combine(RepoPaths.Root, "infra");

    /// <summary>Every .bicep file under infra/, main first.</summary>
    public static IEnumerable<string> Files() =>
        Directory.EnumerateFiles(InfraDir, "*.bicep", SearchOption.AllDirectories).OrderBy(f => Path.GetFileName(f) == "main.bicep" ? 0 : 1).ThenBy(f => f, StringComparer.Ordinal);

    public static string Cli
    {
        get
        {
            if (!OperatingSystem.IsLinux() || RuntimeInformation.OSArchitecture != Architecture.X64)
                throw new PlatformNotSupportedException("These tests run the linux-x64 Bicep CLI; run them on Linux x64.");
            var path = typeof(Bicep).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "BicepCli").Value!;
            if (!File.Exists(path))
                throw new FileNotFoundException($"The Bicep CLI is missing at {path}: restore this project (dotnet build tests/OrleansBus.Infra.Tests).", path);
            // NuGet extracts files without their execute bit.
            File.SetUnixFileMode(path, File.GetUnixFileMode(path) | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
            return path;
        }
    }

    public static Task<CommandResult> RunAsync(params string[] arguments) => ExternalCommand.RunToExitAsync(Cli, arguments, Timeout);
}
