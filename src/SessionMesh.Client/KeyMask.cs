namespace SessionMesh.Client;

/// <summary>Masks a secret for logs: its first four characters and a fixed-width tail.</summary>
public static class KeyMask
{
    /// <summary>Returns e.g. <c>smk_****</c>; keys too short to hide anything are masked whole.</summary>
    public static string? Mask(string? key)
    {
        if (key is null)
        {
            return null;
        }
        return key.Length < 12 ? "****" : string.Concat(key.AsSpan(0, 4), "****");
    }
}
