using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;

namespace SessionMesh.Store.Sqlite;

/// <summary>
/// Label selectors (<c>key=value</c>, all must match) over a JSON labels column. The path goes in
/// as a parameter, so no key ever becomes SQL text.
/// </summary>
internal static class LabelSelectorSql
{
    public static void Append(StringBuilder sql, string column, IReadOnlyList<KeyValuePair<string, string>>? labels)
    {
        if (labels is null)
        {
            return;
        }
        for (var i = 0; i < labels.Count; i++)
        {
            // A quoted JSON path label cannot contain '"' and SQLite matches it against the stored key
            // byte for byte, so keys with a quote or a backslash (escaped in the stored JSON) go
            // through json_each, which decodes keys.
            var clause = NeedsJsonEach(labels[i].Key)
                ? $" AND EXISTS (SELECT 1 FROM json_each({column}) l WHERE l.key = @label_path{i} AND l.value = @label_value{i})"
                : $" AND json_extract({column}, @label_path{i}) = @label_value{i}";
            sql.Append(CultureInfo.InvariantCulture, $"{clause}");
        }
    }

    public static void Bind(SqliteCommand command, IReadOnlyList<KeyValuePair<string, string>>? labels)
    {
        if (labels is null)
        {
            return;
        }
        for (var i = 0; i < labels.Count; i++)
        {
            var (key, value) = labels[i];
            var suffix = i.ToString(CultureInfo.InvariantCulture);
            command.Bind("@label_path" + suffix, NeedsJsonEach(key) ? key : QuotedPath(key)).Bind("@label_value" + suffix, value);
        }
    }

    /// <summary><c>$."key"</c>: quoting makes dots, brackets and spaces in a key literal.</summary>
    private static string QuotedPath(string key) => "$.\"" + key + "\"";

    private static bool NeedsJsonEach(string key) => key.AsSpan().IndexOfAny('"', '\\') >= 0;
}
