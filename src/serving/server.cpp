#include "serving/server.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <fmt/format.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <ctime>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "core/error.h"

namespace xpusim::serving {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr int kAnsweringTimeoutS = 3600;  // a connection whose answer is being computed
constexpr int kWorkerThreads = 2;         // parse + tokenize request bodies off the event loop
constexpr auto kShutdownFlush = std::chrono::milliseconds(300);  // final events reach the clients
constexpr int64_t kReservedDescriptors = 64;  // model files, the engine, the listening socket, logs

json error_body(const std::string& message, const char* type) {
  return {{"error", {{"message", message}, {"type", type}, {"param", nullptr}, {"code", nullptr}}}};
}

const char* error_type(int status) {
  switch (status) {
    case 401:
      return "authentication_error";
    case 403:
      return "permission_error";
    case 429:
      return "rate_limit_error";
    case 503:
      return "server_error";
    default:
      return "invalid_request_error";
  }
}

const char* reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 413:
      return "Payload Too Large";
    case 415:
      return "Unsupported Media Type";
    case 421:
      return "Misdirected Request";
    case 429:
      return "Too Many Requests";
    case 503:
      return "Service Unavailable";
    default:
      return "Error";
  }
}

bool equal_constant_time(std::string_view a, std::string_view b) {
  // Runs over the longer length whatever the contents, so the time does not tell how much matched.
  const size_t n = std::max(a.size(), b.size());
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff = static_cast<unsigned char>(diff | (x ^ y));
  }
  return diff == 0;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// One piece of an answer, produced on a worker or the engine thread, sent on the loop thread.
struct Output {
  enum Kind { WHOLE, CHUNK, END } kind = WHOLE;
  int status = 200;
  std::string content_type;
  std::string data;
};

// Where other threads leave outputs for one exchange; `wake` tells the loop. Null wake: the exchange is over
// (client gone, answered, or shutdown) and outputs are dropped.
struct Mailbox {
  std::mutex mutex;
  std::deque<Output> outputs;
  event* wake = nullptr;
  std::atomic<int64_t> engine_id{0};
  std::atomic<bool> cancelled{false};

  void push(Output output) {
    std::lock_guard lock(mutex);
    if (!wake) return;
    outputs.push_back(std::move(output));
    event_active(wake, EV_READ, 0);
  }
};

}  // namespace

bool is_loopback_address(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

struct Server::Impl {
  // One open client connection (loop thread only): its read deadline and whether it came past the limit.
  struct Connection {
    Impl* impl = nullptr;
    evhttp_connection* evcon = nullptr;
    event* deadline = nullptr;  // armed while a request is being read
    bool over_limit = false;    // accepted beyond max_connections: its request is answered 429
  };
  // A connection's bufferevent as evhttp's bevcb created it, before its evhttp_connection is known.
  struct Unadopted {
    bufferevent* bev = nullptr;
    bool over_limit = false;
  };

  // One generation request (loop thread only).
  struct Exchange {
    Impl* impl = nullptr;
    evhttp_request* request = nullptr;
    evhttp_connection* connection = nullptr;
    std::shared_ptr<Mailbox> mailbox;
    bool stream_started = false;
    std::string origin;  // echoed in CORS headers when allowed
  };

  Impl(HostEngine& engine, const model::LoadedModel& model, const runtime::TextCodec& codec,
       ServerOptions options);
  ~Impl();

  // --- sockets and connections -----------------------------------------------------------------------------
  int bind();
  static bufferevent* on_new_connection(event_base* base, void* arg);
  static void on_adopt(evutil_socket_t, short, void* arg);
  void adopt(const Unadopted& pending);
  static void on_request_deadline(evutil_socket_t, short, void* arg);
  static void on_answer_sent(evhttp_request* request, void* arg);
  void arm_request_deadline(evhttp_connection* evcon);
  void forget_connection(evhttp_connection* evcon);
  void connection_gone();
  void set_accepting(bool accept);
  // --- requests
  // ----------------------------------------------------------------------------------------------
  static void on_request(evhttp_request* request, void* arg);
  void handle(evhttp_request* request);
  bool request_read(evhttp_request* request);
  bool answered_without_the_engine(evhttp_request* request, const std::string& path,
                                   const std::string& origin);
  bool generation_acceptable(evhttp_request* request, const std::string& origin);
  bool admitted(evhttp_request* request, const std::string& origin);
  void start_generation(evhttp_request* request, bool chat, const std::string& origin);
  void generate(const std::shared_ptr<Mailbox>& mailbox, const std::string& body, bool chat);
  void submit(const std::shared_ptr<Mailbox>& mailbox, HostRequest request);
  void reply(evhttp_request* request, int status, const std::string& content_type, const std::string& body,
             const std::string& origin = {});
  void reply_error(evhttp_request* request, int status, const std::string& message,
                   const std::string& origin = {});
  void add_cors(evhttp_request* request, const std::string& origin);
  static void on_wake(evutil_socket_t, short, void* arg);
  static void on_connection_closed(evhttp_connection* connection, void* arg);
  void finish(Exchange* exchange);

  // --- shutdown
  // ----------------------------------------------------------------------------------------------
  static void on_stop(evutil_socket_t, short, void* arg);
  static void on_peer_check(evutil_socket_t, short, void* arg);
  void begin_shutdown();
  void worker_loop();
  void post(std::function<void()> job);

  HostEngine& engine;
  const model::LoadedModel& model;
  const runtime::TextCodec& codec;
  ServerOptions options;
  std::unique_ptr<model::Tokenizer> chat_tokenizer;
  RequestContext context;

  event_base* base = nullptr;
  evhttp* http = nullptr;
  evhttp_bound_socket* bound = nullptr;
  event* stop_event = nullptr;
  event* peer_check_event = nullptr;  // every 200 ms: clients that hung up while their answer is computed
  event* sigterm_event = nullptr;
  event* sigint_event = nullptr;
  event* adopt_event = nullptr;  // ties new bufferevents to their evhttp_connection once evhttp made it
  int port = 0;
  bool loopback = false;
  bool shutting_down = false;
  std::atomic<int64_t> next_response_id{0};
  std::unordered_map<evhttp_connection*, Exchange*> exchange_by_connection;
  std::unordered_map<Exchange*, std::unique_ptr<Exchange>> exchanges;
  std::unordered_map<evhttp_connection*, std::unique_ptr<Connection>> connections;
  std::vector<Unadopted> unadopted;
  int64_t open_connections = 0;    // adopted + unadopted
  int64_t connection_ceiling = 0;  // accepting pauses here (the rest wait in the listen backlog)
  bool accepting_paused = false;
  bool tearing_down = false;

  std::mutex jobs_mutex;
  std::condition_variable jobs_ready;
  std::deque<std::function<void()>> jobs;
  bool workers_stop = false;
  std::vector<std::thread> workers;
};

Server::Impl::Impl(HostEngine& engine_, const model::LoadedModel& model_, const runtime::TextCodec& codec_,
                   ServerOptions options_)
    : engine(engine_), model(model_), codec(codec_), options(std::move(options_)) {
  if (model.gguf_tokenizer)
    chat_tokenizer = model::Tokenizer::from_gguf_data(*model.gguf_tokenizer);
  else if (!model.tokenizer_json.empty())
    chat_tokenizer = model::Tokenizer::from_hf_json(model.tokenizer_json);
  if (options.model_name.empty()) options.model_name = model.name;
  context.codec = &codec;
  context.chat_tokenizer = chat_tokenizer.get();
  context.vocab_size = model.config.vocab_size;
  context.limits.model_name = options.model_name;
  context.limits.max_tokens_limit = options.max_tokens_limit;
  context.limits.max_n = options.max_n;
  context.limits.max_prompt_tokens = options.max_prompt_tokens;
  context.limits.parse_special_in_content = options.parse_special_in_content;

  static std::once_flag threads_once;
  std::call_once(threads_once, [] { evthread_use_pthreads(); });
  base = event_base_new();
  http = base ? evhttp_new(base) : nullptr;
  if (!http) fail("serve: cannot create the event loop");
  evhttp_set_max_body_size(http, static_cast<ev_ssize_t>(options.max_body_bytes));
  evhttp_set_max_headers_size(http, static_cast<ev_ssize_t>(options.max_header_bytes));
  evhttp_set_timeout(http, options.idle_timeout_s);
  evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_HEAD);
  evhttp_set_default_content_type(http, "application/json");
  evhttp_set_gencb(http, &Impl::on_request, this);
  evhttp_set_bevcb(http, &Impl::on_new_connection, this);
  adopt_event = event_new(base, -1, 0, &Impl::on_adopt, this);
  stop_event = event_new(base, -1, 0, &Impl::on_stop, this);
  peer_check_event = event_new(base, -1, EV_PERSIST, &Impl::on_peer_check, this);
  sigterm_event = evsignal_new(base, SIGTERM, &Impl::on_stop, this);
  sigint_event = evsignal_new(base, SIGINT, &Impl::on_stop, this);
  for (int i = 0; i < kWorkerThreads; ++i) workers.emplace_back([this] { worker_loop(); });
}

Server::Impl::~Impl() {
  {
    std::lock_guard lock(jobs_mutex);
    workers_stop = true;
  }
  jobs_ready.notify_all();
  for (std::thread& worker : workers) worker.join();
  while (!exchanges.empty()) finish(exchanges.begin()->first);
  tearing_down = true;  // evhttp_free frees the listener before the connections: no more set_accepting
  for (const Unadopted& pending : unadopted) bufferevent_decref(pending.bev);
  unadopted.clear();
  if (http) evhttp_free(http);  // closes every connection (their closecb forgets them)
  for (auto& entry : connections) event_free(entry.second->deadline);
  connections.clear();
  for (event* e : {stop_event, peer_check_event, sigterm_event, sigint_event, adopt_event}) {
    if (e) event_free(e);
  }
  if (base) event_base_free(base);
}

// --- sockets and connections -------------------------------------------------------------------------------

int Server::Impl::bind() {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(options.port);
  if (getaddrinfo(options.host.c_str(), service.c_str(), &hints, &found) != 0 || !found)
    fail("serve: cannot resolve the address '{}'", options.host);
  const int fd = socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    freeaddrinfo(found);
    fail("serve: cannot create a socket: {}", std::strerror(errno));
  }
  // SO_REUSEADDR only (restart while old connections linger); no SO_REUSEPORT, so a port another process
  // listens on is an error instead of a silent split of the traffic.
  const int yes = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  const int bound_rc = ::bind(fd, found->ai_addr, found->ai_addrlen);
  const int bind_errno = errno;
  freeaddrinfo(found);
  if (bound_rc != 0 || listen(fd, options.listen_backlog) != 0) {
    ::close(fd);
    fail("serve: cannot listen on {}:{}: {}", options.host, options.port,
         std::strerror(bound_rc != 0 ? bind_errno : errno));
  }
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  port = ntohs(address.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&address)->sin6_port
                                             : reinterpret_cast<sockaddr_in*>(&address)->sin_port);
  bound = evhttp_accept_socket_with_handle(http, fd);
  if (!bound) {
    ::close(fd);
    fail("serve: cannot accept on {}:{}", options.host, port);
  }
  loopback = is_loopback_address(options.host);
  // Every connection holds a descriptor: raise the soft limit so that bursts do not hit EMFILE, and pause
  // accepting before the descriptors run out (an accept failing with EMFILE would spin the loop).
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }
  getrlimit(RLIMIT_NOFILE, &files);
  const auto descriptors = static_cast<int64_t>(std::min<rlim_t>(files.rlim_cur, 1 << 24));
  connection_ceiling =
      std::max<int64_t>(1, std::min(2 * options.max_connections, descriptors - kReservedDescriptors));
  return port;
}

// evhttp 2.1 has no connection limit and no hook when a connection opens (2.2's evhttp_set_newreqcb), but it
// lets the server make each connection's bufferevent: that call counts the connection, marks it when it is
// beyond max_connections, and pauses accepting at the ceiling. evhttp creates the evhttp_connection right
// after (same accept callback) with the bufferevent's callback argument set to it; on_adopt reads it there.
bufferevent* Server::Impl::on_new_connection(event_base* base, void* arg) {
  Impl* impl = static_cast<Impl*>(arg);
  bufferevent* bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
  if (!bev) return nullptr;  // evhttp makes its own (out of memory: that connection goes uncounted)
  bufferevent_incref(bev);   // stays valid until adopted, even if evhttp frees the connection at once
  ++impl->open_connections;
  impl->unadopted.push_back({bev, impl->open_connections > impl->options.max_connections});
  if (impl->open_connections >= impl->connection_ceiling) impl->set_accepting(false);
  event_active(impl->adopt_event, EV_READ, 0);
  return bev;
}

void Server::Impl::on_adopt(evutil_socket_t, short, void* arg) {
  Impl* impl = static_cast<Impl*>(arg);
  std::vector<Unadopted> pending;
  pending.swap(impl->unadopted);
  for (const Unadopted& one : pending) impl->adopt(one);
}

void Server::Impl::adopt(const Unadopted& pending) {
  void* callback_arg = nullptr;
  bufferevent_getcb(pending.bev, nullptr, nullptr, nullptr, &callback_arg);
  auto* evcon = static_cast<evhttp_connection*>(callback_arg);
  // bufferevent_free clears the callbacks: a null argument means evhttp already dropped the connection.
  if (evcon && evhttp_connection_get_bufferevent(evcon) == pending.bev) {
    auto connection = std::make_unique<Connection>();
    connection->impl = this;
    connection->evcon = evcon;
    connection->over_limit = pending.over_limit;
    connection->deadline = evtimer_new(base, &Impl::on_request_deadline, connection.get());
    connections[evcon] = std::move(connection);
    evhttp_connection_set_closecb(evcon, &Impl::on_connection_closed, this);
    arm_request_deadline(evcon);
  } else {
    connection_gone();
  }
  bufferevent_decref(pending.bev);
}

void Server::Impl::arm_request_deadline(evhttp_connection* evcon) {
  auto found = connections.find(evcon);
  if (found == connections.end()) return;
  const timeval timeout{options.request_timeout_s, 0};
  evtimer_add(found->second->deadline, &timeout);
}

// The request was not fully read in time (a client trickling bytes slower than it must, but faster than the
// idle timeout): answer 408 straight on the socket (evhttp has no request to answer yet) and close.
void Server::Impl::on_request_deadline(evutil_socket_t, short, void* arg) {
  Connection* connection = static_cast<Connection*>(arg);
  Impl* impl = connection->impl;
  const std::string body =
      error_body(fmt::format("the request was not received within {} s", impl->options.request_timeout_s),
                 "invalid_request_error")
          .dump();
  const std::string answer = fmt::format(
      "HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json\r\nContent-Length: {}\r\n"
      "Connection: close\r\n\r\n{}",
      body.size(), body);
  bufferevent* bev = evhttp_connection_get_bufferevent(connection->evcon);
  const evutil_socket_t fd = bev ? bufferevent_getfd(bev) : -1;
  if (fd >= 0) (void)::send(fd, answer.data(), answer.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  evhttp_connection_free(connection->evcon);  // its closecb forgets the connection (and frees this timer)
}

// The answer is written: the connection may send its next request, within the deadline again.
void Server::Impl::on_answer_sent(evhttp_request* request, void* arg) {
  Impl* impl = static_cast<Impl*>(arg);
  if (evhttp_connection* evcon = evhttp_request_get_connection(request)) impl->arm_request_deadline(evcon);
}

void Server::Impl::forget_connection(evhttp_connection* evcon) {
  auto found = connections.find(evcon);
  if (found == connections.end()) return;
  event_free(found->second->deadline);
  connections.erase(found);
  connection_gone();
}

void Server::Impl::connection_gone() {
  --open_connections;
  if (accepting_paused && open_connections < connection_ceiling) set_accepting(true);
}

void Server::Impl::set_accepting(bool accept) {
  if (tearing_down || !bound) return;
  evconnlistener* listener = evhttp_bound_socket_get_listener(bound);
  if (!listener) return;
  if (accept)
    evconnlistener_enable(listener);
  else
    evconnlistener_disable(listener);
  accepting_paused = !accept;
}

// --- requests
// ------------------------------------------------------------------------------------------------

void Server::Impl::on_request(evhttp_request* request, void* arg) {
  static_cast<Impl*>(arg)->handle(request);
}

void Server::Impl::add_cors(evhttp_request* request, const std::string& origin) {
  if (origin.empty()) return;
  evkeyvalq* headers = evhttp_request_get_output_headers(request);
  evhttp_add_header(headers, "Access-Control-Allow-Origin", origin.c_str());
  evhttp_add_header(headers, "Vary", "Origin");
}

void Server::Impl::reply(evhttp_request* request, int status, const std::string& content_type,
                         const std::string& body, const std::string& origin) {
  evkeyvalq* headers = evhttp_request_get_output_headers(request);
  if (!content_type.empty()) evhttp_add_header(headers, "Content-Type", content_type.c_str());
  evhttp_add_header(headers, "X-Content-Type-Options", "nosniff");
  if (status == 429 || status == 503) evhttp_add_header(headers, "Retry-After", "1");
  if (shutting_down) evhttp_add_header(headers, "Connection", "close");
  add_cors(request, origin);
  evbuffer* buffer = evbuffer_new();
  evbuffer_add(buffer, body.data(), body.size());
  evhttp_send_reply(request, status, reason_phrase(status), buffer);
  evbuffer_free(buffer);
}

void Server::Impl::reply_error(evhttp_request* request, int status, const std::string& message,
                               const std::string& origin) {
  reply(request, status, "application/json", error_body(message, error_type(status)).dump(), origin);
}

// Host, Origin, API key. Answers the request itself when it is refused.
bool Server::Impl::admitted(evhttp_request* request, const std::string& origin) {
  const evkeyvalq* headers = evhttp_request_get_input_headers(request);
  if (loopback) {  // DNS rebinding: a page on evil.example resolving to 127.0.0.1 still sends its own Host
    const char* host_header = evhttp_find_header(headers, "Host");
    if (host_header) {
      std::string host = lower(host_header);
      const std::string port_suffix = fmt::format(":{}", port);
      if (host.ends_with(port_suffix)) host.resize(host.size() - port_suffix.size());
      const bool ok =
          host == "localhost" || host == "[::1]" || host == lower(options.host) ||
          (host.rfind("127.", 0) == 0 && host.find_first_not_of("0123456789.") == std::string::npos);
      if (!ok) {
        reply_error(request, 421,
                    fmt::format("Host '{}' is not this server (bound to {})", host_header, options.host));
        return false;
      }
    }
  }
  if (const char* origin_header = evhttp_find_header(headers, "Origin")) {
    const bool any = std::find(options.allow_origins.begin(), options.allow_origins.end(), "*") !=
                     options.allow_origins.end();
    if (!any && std::find(options.allow_origins.begin(), options.allow_origins.end(), origin_header) ==
                    options.allow_origins.end()) {
      reply_error(request, 403,
                  fmt::format("browser Origin '{}' is not allowed (start the server with --allow-origin)",
                              origin_header));
      return false;
    }
  }
  const char* uri = evhttp_request_get_uri(request);
  const bool open_path = uri && (std::strcmp(uri, "/health") == 0);
  if (!options.api_key.empty() && !open_path) {
    const char* authorization = evhttp_find_header(headers, "Authorization");
    const std::string_view given = authorization ? authorization : "";
    const bool ok = given.starts_with("Bearer ") && equal_constant_time(given.substr(7), options.api_key);
    if (!ok) {
      evhttp_add_header(evhttp_request_get_output_headers(request), "WWW-Authenticate", "Bearer");
      reply_error(request, 401, "a valid API key is required (Authorization: Bearer <key>)", origin);
      return false;
    }
  }
  return true;
}

void Server::Impl::handle(evhttp_request* request) {
  if (!request_read(request)) return;
  const evkeyvalq* headers = evhttp_request_get_input_headers(request);
  const char* origin_header = evhttp_find_header(headers, "Origin");
  const std::string origin = origin_header ? origin_header : "";
  if (!admitted(request, origin)) return;
  const evhttp_uri* uri = evhttp_request_get_evhttp_uri(request);
  const char* path_text = uri ? evhttp_uri_get_path(uri) : nullptr;
  const std::string path = path_text ? path_text : "";
  if (answered_without_the_engine(request, path, origin)) return;
  const bool chat = path == "/v1/chat/completions";
  if (!chat && path != "/v1/completions") {
    const bool known = path == "/health" || path == "/xpusim/stats" || path == "/v1/models";
    return reply_error(request, known ? 405 : 404, fmt::format("no route for {}", path), origin);
  }
  if (generation_acceptable(request, origin)) start_generation(request, chat, origin);
}

// The request is fully read: its deadline stops (the next one starts when this answer is written). Answers
// the request itself (false) when the server is stopping or the connection came past the limit.
bool Server::Impl::request_read(evhttp_request* request) {
  evhttp_connection* evcon = evhttp_request_get_connection(request);
  auto connection = evcon ? connections.find(evcon) : connections.end();
  if (connection != connections.end()) {
    evtimer_del(connection->second->deadline);
    evhttp_request_set_on_complete_cb(request, &Impl::on_answer_sent, this);
  }
  if (shutting_down) {
    reply_error(request, 503, "the server is shutting down");
    return false;
  }
  if (connection != connections.end() && connection->second->over_limit) {
    evhttp_add_header(evhttp_request_get_output_headers(request), "Connection", "close");
    reply_error(
        request, 429,
        fmt::format("the server is busy: too many open connections (limit {})", options.max_connections));
    return false;
  }
  return true;
}

// CORS preflights, /health, /xpusim/stats and /v1/models; false for any other request.
bool Server::Impl::answered_without_the_engine(evhttp_request* request, const std::string& path,
                                               const std::string& origin) {
  const evhttp_cmd_type method = evhttp_request_get_command(request);
  const bool get = method == EVHTTP_REQ_GET || method == EVHTTP_REQ_HEAD;
  if (method == EVHTTP_REQ_OPTIONS) {  // CORS preflight of an allowed Origin (others were refused already)
    evkeyvalq* out = evhttp_request_get_output_headers(request);
    evhttp_add_header(out, "Access-Control-Allow-Methods", "GET, POST, OPTIONS");
    evhttp_add_header(out, "Access-Control-Allow-Headers", "Authorization, Content-Type");
    evhttp_add_header(out, "Access-Control-Max-Age", "600");
    reply(request, 204, "", "", origin);
  } else if (path == "/health" && get) {
    reply(request, 200, "text/plain", "ok", origin);
  } else if (path == "/xpusim/stats" && get) {  // not OpenAI: what the engine holds (tests check it drains)
    const KvUsage usage = engine.kv_usage();
    const json body = {{"active_requests", engine.active_requests()},
                       {"steps", engine.total_steps()},
                       {"kv_reserved_tokens", usage.reserved_tokens},
                       {"kv_capacity_tokens", usage.capacity_tokens},
                       {"exchanges", exchanges.size()},
                       {"open_connections", open_connections}};
    reply(request, 200, "application/json", body.dump(), origin);
  } else if (path == "/v1/models" && get) {
    const json body = {{"object", "list"},
                       {"data", json::array({{{"id", options.model_name},
                                              {"object", "model"},
                                              {"created", static_cast<int64_t>(std::time(nullptr))},
                                              {"owned_by", "xpusim"}}})}};
    reply(request, 200, "application/json", body.dump(), origin);
  } else {
    return false;
  }
  return true;
}

// POST, JSON only (a browser's "simple" cross-site requests, text/plain or forms, are refused), no compressed
// body, and room in flight; answers the request itself (false) otherwise.
bool Server::Impl::generation_acceptable(evhttp_request* request, const std::string& origin) {
  if (evhttp_request_get_command(request) != EVHTTP_REQ_POST) {
    reply_error(request, 405, "use POST", origin);
    return false;
  }
  const evkeyvalq* headers = evhttp_request_get_input_headers(request);
  const char* content_type = evhttp_find_header(headers, "Content-Type");
  const std::string type = lower(content_type ? content_type : "");
  const char* encoding = evhttp_find_header(headers, "Content-Encoding");
  if (!(type == "application/json" || type.starts_with("application/json;"))) {
    reply_error(request, 415, "Content-Type must be application/json", origin);
  } else if (encoding && lower(encoding) != "identity") {
    reply_error(request, 415, "compressed request bodies are not accepted", origin);
  } else if (static_cast<int64_t>(exchanges.size()) >= options.max_in_flight) {
    reply_error(request, 429,
                fmt::format("the server is busy: {} requests in flight (limit {})", exchanges.size(),
                            options.max_in_flight),
                origin);
  } else {
    return true;
  }
  return false;
}

void Server::Impl::start_generation(evhttp_request* request, bool chat, const std::string& origin) {
  auto exchange = std::make_unique<Exchange>();
  exchange->impl = this;
  exchange->request = request;
  exchange->connection = evhttp_request_get_connection(request);
  exchange->origin = origin;
  exchange->mailbox = std::make_shared<Mailbox>();
  exchange->mailbox->wake = event_new(base, -1, 0, &Impl::on_wake, exchange.get());
  Exchange* raw = exchange.get();
  exchanges.emplace(raw, std::move(exchange));
  if (raw->connection) {
    exchange_by_connection[raw->connection] = raw;
    evhttp_connection_set_closecb(raw->connection, &Impl::on_connection_closed, this);  // if not adopted
    // The idle timeout is for the client; while the server computes the answer (queued behind others, or
    // between tokens) the connection waits on us. Hung-up clients are found by on_peer_check meanwhile.
    evhttp_connection_set_timeout(raw->connection, kAnsweringTimeoutS);
  }
  evbuffer* input = evhttp_request_get_input_buffer(request);
  std::string body(evbuffer_get_length(input), '\0');
  evbuffer_copyout(input, body.data(), body.size());
  std::shared_ptr<Mailbox> mailbox = raw->mailbox;
  post([this, mailbox, body = std::move(body), chat] { generate(mailbox, body, chat); });
}

namespace {

// Turns one request's deltas into OpenAI answers (engine thread): SSE chunks while streaming, or one body at
// the end; either way the texts and finish reasons are accumulated for the final usage.
struct ResponseFormatter {
  std::shared_ptr<Mailbox> mailbox;
  bool chat = false;
  bool stream = false;
  bool include_usage = false;
  int64_t n = 1;
  int64_t created = 0;
  std::string id;
  std::string model_name;
  std::string chip;
  std::vector<std::string> texts;
  std::vector<std::string> reasons;

  const char* object() const {
    return chat ? (stream ? "chat.completion.chunk" : "chat.completion") : "text_completion";
  }

  static std::string dump(const json& value) {
    return value.dump(-1, ' ', false, json::error_handler_t::replace);
  }

  void on_delta(const StreamDelta& delta) {
    const auto index = static_cast<size_t>(delta.index);
    if (index >= texts.size()) return;
    texts[index] += delta.text;
    if (delta.finished) reasons[index] = delta.finish_reason;
    if (!stream) return;
    json choice = {{"index", delta.index},
                   {"finish_reason", delta.finished ? json(delta.finish_reason) : json(nullptr)}};
    if (chat)
      choice["delta"] = {{"role", "assistant"}, {"content", delta.text}};
    else
      choice["text"] = delta.text;
    const json chunk = {{"id", id},
                        {"object", object()},
                        {"created", created},
                        {"model", model_name},
                        {"choices", json::array({choice})}};
    mailbox->push({Output::CHUNK, 200, "", "data: " + dump(chunk) + "\n\n"});
  }

  void on_done(const RequestSummary& summary) {
    if (summary.cancelled) return;
    const json usage = {{"prompt_tokens", summary.prompt_tokens},
                        {"completion_tokens", summary.completion_tokens},
                        {"total_tokens", summary.prompt_tokens + summary.completion_tokens}};
    json timing = {{"steps", summary.steps}};
    if (!chip.empty()) {
      timing["chip"] = chip;
      timing["simulated_ttft_s"] = summary.simulated_ttft_s;
      timing["simulated_e2e_s"] = summary.simulated_e2e_s;
    }
    if (stream)
      end_stream(usage, timing);
    else
      mailbox->push({Output::WHOLE, 200, "application/json", dump(whole_body(usage, timing))});
  }

  void end_stream(const json& usage, const json& timing) {
    std::string tail;
    if (include_usage) {
      const json chunk = {{"id", id},
                          {"object", object()},
                          {"created", created},
                          {"model", model_name},
                          {"choices", json::array()},
                          {"usage", usage},
                          {"xpusim", timing}};
      tail += "data: " + dump(chunk) + "\n\n";
    }
    tail += "data: [DONE]\n\n";
    mailbox->push({Output::CHUNK, 200, "", std::move(tail)});
    mailbox->push({Output::END, 200, "", ""});
  }

  json whole_body(const json& usage, const json& timing) const {
    json choices = json::array();
    for (int64_t i = 0; i < n; ++i) {
      const auto index = static_cast<size_t>(i);
      json choice = {{"index", i}, {"finish_reason", reasons[index]}};
      if (chat) {
        choice["message"] = {{"role", "assistant"}, {"content", texts[index]}};
      } else {
        choice["text"] = texts[index];
        choice["logprobs"] = nullptr;
      }
      choices.push_back(choice);
    }
    return {{"id", id},           {"object", object()}, {"created", created}, {"model", model_name},
            {"choices", choices}, {"usage", usage},     {"xpusim", timing}};
  }
};

}  // namespace

// Worker thread: parse, tokenize, submit; the engine thread then formats every delta.
void Server::Impl::generate(const std::shared_ptr<Mailbox>& mailbox, const std::string& body, bool chat) {
  if (mailbox->cancelled) return;
  GenerationRequest parsed;
  try {
    parsed = parse_generation_request(body, chat, context);
  } catch (const BadRequest& error) {
    mailbox->push({Output::WHOLE, 400, "application/json",
                   ResponseFormatter::dump(error_body(error.message, "invalid_request_error"))});
    return;
  }
  auto formatter = std::make_shared<ResponseFormatter>();
  formatter->mailbox = mailbox;
  formatter->chat = chat;
  formatter->stream = parsed.stream;
  formatter->include_usage = parsed.include_usage;
  formatter->n = parsed.n;
  formatter->created = static_cast<int64_t>(std::time(nullptr));
  formatter->id = fmt::format("{}-{}", chat ? "chatcmpl" : "cmpl", next_response_id.fetch_add(1) + 1);
  formatter->model_name = options.model_name;
  formatter->chip = engine.chip_name();
  formatter->texts.resize(static_cast<size_t>(parsed.n));
  formatter->reasons.assign(static_cast<size_t>(parsed.n), "length");

  HostRequest request;
  request.prompt = std::move(parsed.prompt);
  request.max_tokens = parsed.max_tokens;
  request.n = parsed.n;
  request.sampling = parsed.sampling;
  request.stop_strings = parsed.stops;
  request.on_delta = [formatter](const StreamDelta& delta) { formatter->on_delta(delta); };
  request.on_done = [formatter](const RequestSummary& summary) { formatter->on_done(summary); };
  submit(mailbox, std::move(request));
}

void Server::Impl::submit(const std::shared_ptr<Mailbox>& mailbox, HostRequest request) {
  int64_t id = 0;
  try {
    id = engine.submit(std::move(request));
  } catch (const Error& error) {
    const std::string message = error.what();
    const int status = message.rfind("the server is busy", 0) == 0 ? 429 : 400;
    mailbox->push(
        {Output::WHOLE, status, "application/json", error_body(message, error_type(status)).dump()});
    return;
  }
  // Either this thread sees `cancelled` or on_connection_closed sees the id (both atomic): no request leaks.
  mailbox->engine_id = id;
  if (mailbox->cancelled) engine.cancel(id);  // the client left while its body was being parsed
}

void Server::Impl::on_wake(evutil_socket_t, short, void* arg) {
  Exchange* exchange = static_cast<Exchange*>(arg);
  Impl* impl = exchange->impl;
  std::deque<Output> outputs;
  {
    std::lock_guard lock(exchange->mailbox->mutex);
    outputs.swap(exchange->mailbox->outputs);
  }
  for (Output& output : outputs) {
    evhttp_request* request = exchange->request;
    if (output.kind == Output::WHOLE) {
      impl->reply(request, output.status, output.content_type, output.data, exchange->origin);
      return impl->finish(exchange);
    }
    if (!exchange->stream_started) {
      evkeyvalq* headers = evhttp_request_get_output_headers(request);
      evhttp_add_header(headers, "Content-Type", "text/event-stream");
      evhttp_add_header(headers, "Cache-Control", "no-cache");
      evhttp_add_header(headers, "X-Content-Type-Options", "nosniff");
      impl->add_cors(request, exchange->origin);
      evhttp_send_reply_start(request, 200, "OK");
      exchange->stream_started = true;
    }
    if (output.kind == Output::CHUNK) {
      evbuffer* buffer = evbuffer_new();
      evbuffer_add(buffer, output.data.data(), output.data.size());
      evhttp_send_reply_chunk(request, buffer);
      evbuffer_free(buffer);
    } else {
      evhttp_send_reply_end(request);
      return impl->finish(exchange);
    }
  }
}

void Server::Impl::on_connection_closed(evhttp_connection* connection, void* arg) {
  Impl* impl = static_cast<Impl*>(arg);
  impl->forget_connection(connection);
  auto found = impl->exchange_by_connection.find(connection);
  if (found == impl->exchange_by_connection.end()) return;
  Exchange* exchange = found->second;
  exchange->request = nullptr;  // evhttp frees it with the connection
  exchange->mailbox->cancelled = true;
  if (const int64_t id = exchange->mailbox->engine_id; id > 0) impl->engine.cancel(id);  // frees its KV now
  impl->finish(exchange);
}

void Server::Impl::finish(Exchange* exchange) {
  {
    std::lock_guard lock(exchange->mailbox->mutex);
    if (exchange->mailbox->wake) event_free(exchange->mailbox->wake);
    exchange->mailbox->wake = nullptr;
    exchange->mailbox->outputs.clear();
  }
  if (exchange->connection) {
    auto found = exchange_by_connection.find(exchange->connection);
    if (found != exchange_by_connection.end() && found->second == exchange) {
      exchange_by_connection.erase(found);
      if (exchange->request) evhttp_connection_set_timeout(exchange->connection, options.idle_timeout_s);
    }
  }
  exchanges.erase(exchange);
}

// --- shutdown
// ------------------------------------------------------------------------------------------------

// evhttp does not read a connection while its request is being answered, so a client that hangs up is only
// seen at the next write: peek at each waiting exchange's socket instead, and drop the connection (its
// closecb cancels the engine request and frees its KV) as soon as the peer has closed.
void Server::Impl::on_peer_check(evutil_socket_t, short, void* arg) {
  Impl* impl = static_cast<Impl*>(arg);
  std::vector<evhttp_connection*> gone;
  for (const auto& [connection, exchange] : impl->exchange_by_connection) {
    bufferevent* bev = evhttp_connection_get_bufferevent(connection);
    const evutil_socket_t fd = bev ? bufferevent_getfd(bev) : -1;
    if (fd < 0) continue;
    char byte = 0;
    const ssize_t n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
      gone.push_back(connection);
  }
  for (evhttp_connection* connection : gone) evhttp_connection_free(connection);
}

void Server::Impl::on_stop(evutil_socket_t, short, void* arg) { static_cast<Impl*>(arg)->begin_shutdown(); }

void Server::Impl::begin_shutdown() {
  if (shutting_down) return;
  shutting_down = true;
  if (bound) {
    evhttp_del_accept_socket(http, bound);  // closes the listening socket: new connections are refused
    bound = nullptr;
    accepting_paused = false;
  }
  std::vector<Exchange*> open;
  for (const auto& [raw, owned] : exchanges) open.push_back(raw);
  for (Exchange* exchange : open) {
    exchange->mailbox->cancelled = true;
    if (const int64_t id = exchange->mailbox->engine_id; id > 0) engine.cancel(id);
    if (exchange->request) {
      const json error = error_body("the server is shutting down", "server_error");
      if (exchange->stream_started) {  // a stream ends with a final event, not a cut connection
        const std::string tail = "data: " + error.dump() + "\n\ndata: [DONE]\n\n";
        evbuffer* buffer = evbuffer_new();
        evbuffer_add(buffer, tail.data(), tail.size());
        evhttp_send_reply_chunk(exchange->request, buffer);
        evbuffer_free(buffer);
        evhttp_send_reply_end(exchange->request);
      } else {
        reply(exchange->request, 503, "application/json", error.dump(), exchange->origin);
      }
    }
    finish(exchange);
  }
  const auto flush = std::chrono::duration_cast<std::chrono::microseconds>(kShutdownFlush).count();
  const timeval delay{0, static_cast<suseconds_t>(flush)};
  event_base_loopexit(base, &delay);
}

void Server::Impl::post(std::function<void()> job) {
  {
    std::lock_guard lock(jobs_mutex);
    jobs.push_back(std::move(job));
  }
  jobs_ready.notify_one();
}

void Server::Impl::worker_loop() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(jobs_mutex);
      jobs_ready.wait(lock, [this] { return workers_stop || !jobs.empty(); });
      if (workers_stop) return;
      job = std::move(jobs.front());
      jobs.pop_front();
    }
    job();
  }
}

// --- Server
// ---------------------------------------------------------------------------------------------------

Server::Server(HostEngine& engine, const model::LoadedModel& model, const runtime::TextCodec& codec,
               ServerOptions options)
    : m_impl(std::make_unique<Impl>(engine, model, codec, std::move(options))) {}

Server::~Server() = default;

int Server::bind() { return m_impl->bind(); }

void Server::run() {
  event_add(m_impl->sigterm_event, nullptr);
  event_add(m_impl->sigint_event, nullptr);
  const timeval every{0, 200000};
  event_add(m_impl->peer_check_event, &every);
  event_base_dispatch(m_impl->base);
  event_del(m_impl->sigterm_event);
  event_del(m_impl->sigint_event);
  event_del(m_impl->peer_check_event);
}

void Server::stop() { event_active(m_impl->stop_event, EV_READ, 0); }

}  // namespace xpusim::serving
