using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansBus.Silo.Archive.Blob;

namespace OrleansBus.Silo.Archive;

/// <summary>
/// Configuration section <c>Bus:Archive</c>: which archive a silo uses. <c>Kind=local</c> (the embedded
/// default) keeps chunks in <see cref="LocalPath"/> (default <c>&lt;DataDir&gt;/archive</c>);
/// <c>Kind=blob</c> uses <see cref="Blob"/> (<c>Bus:Archive:Blob:*</c>).
/// </summary>
public sealed class ArchiveOptions
{
    public const string Section = "Bus:Archive";
    public const string LocalKind = "local";
    public const string BlobKind = "blob";

    public string Kind { get; set; } = LocalKind;

    /// <summary>Folder of the local archive; relative paths are taken from the working directory. Null: <c>&lt;DataDir&gt;/archive</c>.</summary>
    public string? LocalPath { get; set; }

    public BlobArchiveOptions Blob { get; set; } = new();

    /// <summary>Problems, each naming its key; empty when valid. Blob settings are only checked when used.</summary>
    public IReadOnlyList<string> Validate()
    {
        return Kind switch
        {
            LocalKind => LocalPath is not null && string.IsNullOrWhiteSpace(LocalPath)
                ? [$"{Section}:LocalPath must not be blank (leave it out for <DataDir>/archive)."]
                : [],
            BlobKind => Blob.Validate($"{Section}:Blob"),
            _ => [$"{Section}:Kind must be '{LocalKind}' or '{BlobKind}'; got '{Kind}'."],
        };
    }
}

/// <summary>For <c>AddOptions&lt;ArchiveOptions&gt;().ValidateOnStart()</c>: a bad setting stops the host and names its key.</summary>
public sealed class ArchiveOptionsValidator : IValidateOptions<ArchiveOptions>
{
    public ValidateOptionsResult Validate(string? name, ArchiveOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

/// <summary>Builds the configured <see cref="IChunkArchive"/>. The caller owns it (a blob archive is <see cref="IDisposable"/>).</summary>
public static class ChunkArchiveFactory
{
    public static IChunkArchive Create(ArchiveOptions options, string dataDir, ILoggerFactory? loggers = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        if (errors.Count > 0)
            throw new ArgumentException(string.Join(" ", errors), nameof(options));
        var logger = loggers?.CreateLogger("OrleansBus.Silo.Archive");
        return options.Kind == ArchiveOptions.BlobKind
            ? new BlobArchive(options.Blob, logger)
            : new LocalDirectoryArchive(options.LocalPath ?? Path.Combine(dataDir, "archive"), logger, time);
    }
}
