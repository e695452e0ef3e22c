using System.Text.Json;
using System.Text.Json.Serialization;

namespace AuthenticatedHttp.Samples.Worker;

/// <summary>Source-generated JSON for the sample's types: no reflection, so trimming and AOT keep working.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(OrderQuery))]
[JsonSerializable(typeof(EchoReply))]
internal sealed partial class SampleJsonContext : JsonSerializerContext;
