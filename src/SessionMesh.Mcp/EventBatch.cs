using SessionMesh.Contracts;

namespace SessionMesh.Mcp;

/// <summary>What <c>watch_events</c> answers: events oldest first, and the revision to pass as <c>since</c> next.</summary>
public sealed record EventBatch(IReadOnlyList<EventView> Events, long NextSince);
