using System.Text.Json.Serialization;

namespace AuthenticatedHttp.StackExchangeRedis.Internal;

/// <summary>The plaintext of a token entry: the <see cref="AccessToken"/>'s fields, with short names.</summary>
internal sealed class StoredToken
{
    [JsonPropertyName("v")]
    public string? Value { get; set; }

    [JsonPropertyName("s")]
    public string? Scheme { get; set; }

    [JsonPropertyName("e")]
    public DateTimeOffset ExpiresAt { get; set; }

    [JsonPropertyName("o")]
    public DateTimeOffset ObtainedAt { get; set; }

    [JsonPropertyName("k")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? KeyThumbprint { get; set; }

    [JsonPropertyName("r")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DateTimeOffset? RefreshOn { get; set; }

    public override string ToString() => $"StoredToken({Scheme}, expires {ExpiresAt:O})"; // never the value
}

/// <summary>Source-generated JSON for <see cref="StoredToken"/> (no reflection: the package is AOT-compatible).</summary>
[JsonSourceGenerationOptions(UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip)]
[JsonSerializable(typeof(StoredToken))]
internal sealed partial class RedisJsonContext : JsonSerializerContext;
