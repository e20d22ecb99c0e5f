namespace SessionMesh.Tests.Agent;

/// <summary>Child programs for the wrapper, written as bash scripts into a test's temp directory.</summary>
public static class ChildScripts
{
    /// <summary>Records its pid, says "ready", writes every directive it reads to <c>directives</c>, exits 7 on the direction "exit".</summary>
    public const string Recorder = """
        echo $$ >> "$DIR/pids"
        printf '%s\n' "$SESSION_MESH_AGENT_KEY" > "$DIR/agent-key"
        echo "ready $SESSION_MESH_AGENT_ID directive=${SESSION_MESH_DIRECTIVE:-none}"
        while IFS= read -r line; do
          printf '%s\n' "$line" >> "$DIR/directives"
          echo "handed: $line"
          case "$line" in *'"direction":"exit"'*) exit 7;; esac
        done
        """;

    /// <summary>Ignores SIGTERM (and so does the sleep it becomes): only SIGKILL stops it.</summary>
    public const string IgnoresTerm = """
        trap '' TERM
        echo $$ >> "$DIR/pids"
        echo ready
        exec sleep 1000
        """;

    /// <summary>
    /// Leaves two grandchildren in their own sessions: one still its child, one orphaned at once (its parent subshell
    /// exits), then waits.
    /// </summary>
    public const string SetsidGrandchildren = """
        echo $$ >> "$DIR/pids"
        setsid sleep 1000 &
        echo $! >> "$DIR/pids"
        ( setsid sleep 1001 & echo $! >> "$DIR/pids" )
        echo ready
        exec sleep 1002
        """;

    /// <summary>A wrapper running a wrapper running <see cref="Leaf"/>: the three-level tree.</summary>
    public const string Top = """
        echo $$ >> "$DIR/pids"
        exec dotnet "$SESSION_MESH_CLI" agent --agent-id "$PREFIX-mid" -- bash "$DIR/mid.sh"
        """;

    public const string Mid = """
        echo $$ >> "$DIR/pids"
        exec dotnet "$SESSION_MESH_CLI" agent --agent-id "$PREFIX-leaf" -- bash "$DIR/leaf.sh"
        """;

    public const string Leaf = """
        echo $$ >> "$DIR/pids"
        echo "leaf ready under $SESSION_MESH_AGENT_ID"
        exec sleep 1003
        """;

    /// <summary>Prints <c>line 1</c> .. <c>line 100000</c> and exits.</summary>
    public const string HundredThousandLines = """
        seq 1 100000 | sed 's/^/line /'
        """;

    public static string Write(string directory, string name, string body)
    {
        var path = Path.Combine(directory, name);
        File.WriteAllText(path, "#!/usr/bin/env bash\n" + body.Replace("\r\n", "\n", StringComparison.Ordinal) + "\n");
        return path;
    }
}
