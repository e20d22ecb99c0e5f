namespace SessionMesh.Cli.Output;

/// <summary>ANSI colours, or plain text when the stream is not a terminal or NO_COLOR is set.</summary>
internal sealed class Ansi(bool enabled)
{
    public bool Enabled { get; } = enabled;

    public string Bold(string text) => Wrap("1", text);
    public string Dim(string text) => Wrap("2", text);
    public string Red(string text) => Wrap("31", text);
    public string Green(string text) => Wrap("32", text);
    public string Yellow(string text) => Wrap("33", text);
    public string Blue(string text) => Wrap("34", text);
    public string Cyan(string text) => Wrap("36", text);

    /// <summary>A session or command status, coloured by what it means: live green, waiting yellow, ended dim or red.</summary>
    public string Status(string? status) => status switch
    {
        null => Dim("-"),
        "active" or "acked" or "alive" => Green(status),
        "idle" or "queued" or "delivered" or "killing" => Yellow(status),
        "stale" or "stalled" or "rejected" or "failed" or "orphaned" => Red(status),
        "killed" or "expired" => Red(status),
        _ => Dim(status),
    };

    private string Wrap(string code, string text) => Enabled && text.Length > 0 ? $"\u001b[{code}m{text}\u001b[0m" : text;

    /// <summary>Visible width of a string that may hold escape sequences.</summary>
    public static int VisibleLength(string text)
    {
        var length = 0;
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '\u001b')
            {
                while (i < text.Length && text[i] != 'm')
                {
                    i++;
                }
                continue;
            }
            length++;
        }
        return length;
    }
}
