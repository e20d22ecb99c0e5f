using System.Buffers.Text;
using System.Text;

namespace SessionMesh.Mesh;

/// <summary>Opaque list cursors: the last key of a page, base64url-encoded so clients do not parse them.</summary>
public static class Cursor
{
    public static string Encode(string lastKey) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(lastKey));

    public static string Encode(long lastKey) => Encode(lastKey.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public static string? Decode(string? cursor)
    {
        if (string.IsNullOrEmpty(cursor))
        {
            return null;
        }
        try
        {
            return Encoding.UTF8.GetString(Base64Url.DecodeFromChars(cursor));
        }
        catch (FormatException)
        {
            throw MeshException.Invalid("cursor", "'cursor' is not a cursor this server issued.");
        }
    }

    public static long? DecodeLong(string? cursor) =>
        Decode(cursor) is { } text
            ? long.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var value) ? value
                : throw MeshException.Invalid("cursor", "'cursor' is not a cursor this server issued.")
            : null;

    /// <summary>Trims rows fetched with one extra into a page, and the cursor of the next page if there is one.</summary>
    public static (IReadOnlyList<T> Rows, string? Next) Trim<T>(IReadOnlyList<T> rows, int limit, Func<T, string> key)
    {
        if (rows.Count <= limit)
        {
            return (rows, null);
        }
        var page = rows.Take(limit).ToList();
        return (page, Encode(key(page[^1])));
    }
}
