using System.Globalization;
using System.Text;

namespace SessionMesh.Client.Http;

/// <summary>Builds a relative path with a query string, leaving out null values.</summary>
internal sealed class MeshQuery
{
    private readonly StringBuilder _builder;
    private bool _hasQuery;

    public MeshQuery(string path)
    {
        _builder = new StringBuilder(path);
        _hasQuery = path.Contains('?', StringComparison.Ordinal);
    }

    public static string Segment(string value) => Uri.EscapeDataString(value);

    public MeshQuery Add(string name, string? value)
    {
        if (value is null)
        {
            return this;
        }
        _builder.Append(_hasQuery ? '&' : '?').Append(name).Append('=').Append(Uri.EscapeDataString(value));
        _hasQuery = true;
        return this;
    }

    public MeshQuery Add(string name, int? value) => Add(name, value?.ToString(CultureInfo.InvariantCulture));

    public MeshQuery Add(string name, long? value) => Add(name, value?.ToString(CultureInfo.InvariantCulture));

    public MeshQuery Add(string name, bool? value) => Add(name, value is null ? null : value.Value ? "true" : "false");

    public MeshQuery AddEach(string name, IEnumerable<string>? values)
    {
        foreach (var value in values ?? [])
        {
            Add(name, value);
        }
        return this;
    }

    public override string ToString() => _builder.ToString();
}
