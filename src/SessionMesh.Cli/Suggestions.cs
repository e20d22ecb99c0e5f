using System.CommandLine;

namespace SessionMesh.Cli;

/// <summary>"Did you mean ...?" for a mistyped command or flag: the closest name the command accepts, by edit distance.</summary>
internal static class Suggestions
{
    /// <summary>The names a mistyped <paramref name="token"/> could have meant under <paramref name="command"/>: its subcommands and its options.</summary>
    public static IEnumerable<string> Candidates(Command command, string token)
    {
        if (!token.StartsWith('-'))
        {
            foreach (var subcommand in command.Subcommands.Where(c => !c.Hidden))
            {
                yield return subcommand.Name;
                foreach (var alias in subcommand.Aliases)
                {
                    yield return alias;
                }
            }
            yield break;
        }
        for (var current = command; current is not null; current = current.Parents.OfType<Command>().FirstOrDefault())
        {
            foreach (var option in current.Options.Where(o => !o.Hidden && (current == command || o.Recursive)))
            {
                yield return option.Name;
                foreach (var alias in option.Aliases)
                {
                    yield return alias;
                }
            }
        }
    }

    /// <summary>The closest candidate, or null when none is close enough to be a plausible typo.</summary>
    public static string? Closest(string token, IEnumerable<string> candidates)
    {
        var name = token.Split('=', 2)[0];
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in candidates.Distinct(StringComparer.Ordinal))
        {
            var distance = Distance(name, candidate);
            if (distance < bestDistance)
            {
                (best, bestDistance) = (candidate, distance);
            }
        }
        // A third of the name (at least 1, at most 3 edits) is a typo; more than that is a different word.
        var allowed = Math.Clamp(name.TrimStart('-').Length / 3, 1, 3);
        return bestDistance <= allowed ? best : null;
    }

    /// <summary>The closest name <paramref name="command"/> accepts, as " Did you mean 'x'?" (empty when there is none).</summary>
    public static string DidYouMean(Command command, string token) =>
        Closest(token, Candidates(command, token)) is { } match ? $" Did you mean '{match}'?" : "";

    // Damerau-Levenshtein (optimal string alignment): a swapped pair of letters, the commonest typo, costs 1.
    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }
        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }
        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = char.ToLowerInvariant(a[i - 1]) == char.ToLowerInvariant(b[j - 1]) ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }
        return d[a.Length, b.Length];
    }
}
