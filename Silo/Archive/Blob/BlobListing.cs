using System.Globalization;
using System.Xml;
using System.Xml.Linq;

namespace OrleansBus.Silo.Archive.Blob;

/// <summary>
/// Reads one page of a List Blobs reply: <c>EnumerationResults/Blobs/Blob/{Name, Properties/Content-Length}</c>
/// and <c>NextMarker</c>. A page is at most 5000 entries (a few MB), so a small DOM is fine. DTDs are refused.
/// </summary>
internal static class BlobListing
{
    /// <summary>Adds the page's blobs to <paramref name="into"/>; returns the next marker, or null on the last page.</summary>
    public static async Task<string?> ReadPageAsync(Stream body, List<BlobItem> into, CancellationToken cancellationToken)
    {
        var settings = new XmlReaderSettings { Async = true, DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null };
        using var reader = XmlReader.Create(body, settings);
        var document = await XDocument.LoadAsync(reader, LoadOptions.None, cancellationToken);
        var root = document.Root ?? throw new XmlException("The listing has no root element.");
        foreach (var blob in root.Elements("Blobs").Elements("Blob"))
        {
            var name = (string?)blob.Element("Name");
            var length = (string?)blob.Element("Properties")?.Element("Content-Length");
            if (name is null || length is null)
                throw new XmlException("A listed blob has no Name or Content-Length.");
            into.Add(new BlobItem(name, long.Parse(length, NumberStyles.None, CultureInfo.InvariantCulture)));
        }
        var marker = (string?)root.Element("NextMarker");
        return string.IsNullOrEmpty(marker) ? null : marker;
    }
}
