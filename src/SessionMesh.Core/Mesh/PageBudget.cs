using System.Text.Json.Serialization.Metadata;
using SessionMesh.Contracts;

namespace SessionMesh.Mesh;

/// <summary>
/// The byte budget of a page (<see cref="MeshOptions.MaxPageBytes"/>): a page ends before its items' JSON would pass the
/// budget, so no answer grows with a count times the largest item. A page always keeps its first item, so a reader
/// moves on even past one item larger than the budget.
/// </summary>
public static class PageBudget
{
    /// <summary>How many of <paramref name="items"/>, from the first, fit in <paramref name="maxBytes"/> (at least one when there are any).</summary>
    public static int Fit<T>(IReadOnlyList<T> items, Func<T, long> sizeOf, long maxBytes)
    {
        long total = 0;
        for (var i = 0; i < items.Count; i++)
        {
            // One byte for the comma between items.
            total += sizeOf(items[i]) + 1;
            if (total > maxBytes && i > 0)
            {
                return i;
            }
        }
        return items.Count;
    }

    /// <summary>The bytes of <paramref name="item"/> as the API writes it.</summary>
    public static long SizeOf<T>(T item, JsonTypeInfo<T> typeInfo) => ThreadJson.Serialize(item, typeInfo).Length;

    /// <summary>
    /// A page of <paramref name="items"/> cut to the budget: when cut, its cursor is <paramref name="cursorAfter"/> of the
    /// number of items kept; otherwise <paramref name="next"/>, the count-limited page's own.
    /// </summary>
    public static Page<T> Cut<T>(IReadOnlyList<T> items, string? next, Func<int, string> cursorAfter, JsonTypeInfo<T> typeInfo, long maxBytes)
    {
        var kept = Fit(items, item => SizeOf(item, typeInfo), maxBytes);
        return kept == items.Count
            ? new Page<T> { Items = items as List<T> ?? items.ToList(), NextCursor = next }
            : new Page<T> { Items = items.Take(kept).ToList(), NextCursor = cursorAfter(kept) };
    }
}
