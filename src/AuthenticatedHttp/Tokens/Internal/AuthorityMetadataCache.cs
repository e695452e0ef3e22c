using System.Collections.Concurrent;
using AuthenticatedHttp.Internal;
using Microsoft.Extensions.Logging;

namespace AuthenticatedHttp.Tokens.Internal;

/// <summary>
/// Discovery documents, one per authority for the whole application: fetched once (single-flighted whoever asks),
/// kept for <see cref="Lifetime"/>, fetched again sooner when the token endpoint it named seems to have moved, and
/// still used after its lifetime while a fresh fetch fails transiently (an outage of the discovery endpoint alone must
/// not stop token requests that the token endpoint would answer).
/// </summary>
internal sealed class AuthorityMetadataCache(IHttpClientFactory httpClientFactory, TimeProvider time, ILoggerFactory loggerFactory)
{
    /// <summary>How long a document is used before it is fetched again: providers change endpoints rarely and announce it.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(24);

    /// <summary>How long a fetch may take, whoever waits for it; each waiter's own token request timeout bounds its wait.</summary>
    public static readonly TimeSpan FetchTimeout = TimeSpan.FromSeconds(30);

    private readonly IHttpClientFactory _httpClientFactory = httpClientFactory;
    private readonly TimeProvider _time = time;
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly ILogger _logger = loggerFactory.CreateLogger("AuthenticatedHttp.Discovery");

    /// <summary>The authority's metadata, from the cache or one fetch shared by every caller that asks meanwhile.</summary>
    /// <exception cref="TokenAcquisitionException">Kind <see cref="TokenFailureKind.Discovery"/>: no usable document.</exception>
    public Task<AuthorityMetadata> GetAsync(Uri authority, string clientName, CancellationToken cancellationToken) =>
        _entries.GetOrAdd(authority.AbsoluteUri, _ => new Entry(this, authority)).GetAsync(clientName, cancellationToken);

    /// <summary>
    /// Forgets <paramref name="used"/> when it is still the current document: the token endpoint it named answered as
    /// if it were not there, so the next request reads the document again. A newer document is kept.
    /// </summary>
    public void Invalidate(Uri authority, AuthorityMetadata used)
    {
        if (_entries.TryGetValue(authority.AbsoluteUri, out var entry))
        {
            entry.Invalidate(used);
        }
    }

    private sealed class Entry(AuthorityMetadataCache owner, Uri authority)
    {
        private readonly Lock _gate = new();
        private AuthorityMetadata? _current;
        private bool _stale;
        private Task<AuthorityMetadata>? _fetch;

        public async Task<AuthorityMetadata> GetAsync(string clientName, CancellationToken cancellationToken)
        {
            Task<AuthorityMetadata> fetch;
            AuthorityMetadata? fallback;
            lock (_gate)
            {
                if (_current is { } current && !_stale && owner._time.GetUtcNow() - current.FetchedAt < Lifetime)
                {
                    return current;
                }

                // The first caller starts the fetch; it runs to its own timeout, not the caller's, so one caller giving
                // up does not fail the others waiting on it.
                fetch = _fetch ??= FetchAndKeepAsync(clientName);
                fallback = _stale ? null : _current; // a document the token endpoint contradicted is no fallback
            }

            try
            {
                return await fetch.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (TokenAcquisitionException ex) when (ex.IsTransient && fallback is not null)
            {
                Log.DiscoveryFallingBackToCachedDocument(owner._logger, clientName, authority.AbsoluteUri, ex.Message);
                return fallback;
            }
        }

        public void Invalidate(AuthorityMetadata used)
        {
            lock (_gate)
            {
                if (ReferenceEquals(_current, used))
                {
                    _stale = true;
                }
            }
        }

        private async Task<AuthorityMetadata> FetchAndKeepAsync(string clientName)
        {
            try
            {
                using var timeout = new CancellationTokenSource(FetchTimeout, owner._time);
                var metadata = await DiscoveryDocument.FetchAsync(owner._httpClientFactory, authority, clientName, owner._time, timeout.Token).ConfigureAwait(false);
                lock (_gate)
                {
                    _current = metadata;
                    _stale = false;
                }

                Log.DiscoveryDocumentRead(owner._logger, clientName, authority.AbsoluteUri, metadata.TokenEndpoint.GetLeftPart(UriPartial.Path));
                return metadata;
            }
            finally
            {
                lock (_gate)
                {
                    _fetch = null; // success is kept in _current; a failure is not remembered here (the slot's cool-down is)
                }
            }
        }
    }
}
