using Polly;

namespace AuthenticatedHttp.DependencyInjection.Internal;

/// <summary>A user's replacement token endpoint pipeline, per client name; kept out of the bindable options.</summary>
internal sealed class TokenEndpointPipelineOverride
{
    public ResiliencePipeline? Pipeline { get; set; }
}
