// Thread-per-connection on purpose: a script may block between chunks (waiting for the
// client under test to signal), which must not hold up other connections, and synchronous
// Beast code reads like the wire protocol it scripts. Only accepting runs on an io_context.

#include "test_http_server.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

// GCC 12 at -O2 reports a "potential null pointer dereference" inside Boost.Asio 1.74's
// scheduler (scheduler.ipp) after inlining; it is in Boost, not here, and -Werror (CI)
// would fail the build. Scoped to this file, which is test-only.
#pragma GCC diagnostic ignored "-Wnull-dereference"

#include <algorithm>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <charconv>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace rg::testing {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

constexpr size_t kMaxRequestBody = size_t{64} * 1024 * 1024;

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string Hex(size_t value) {
  char buffer[32];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value, 16);
  (void)ec;
  return std::string(buffer, end);
}

struct KeyAndCertificate {
  std::string key_pem;
  std::string certificate_pem;
};

std::string BioText(BIO* bio) {
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(length));
}

/// A self-signed P-256 certificate for 127.0.0.1 (subjectAltName IP), valid for a day. It is
/// its own CA, so tests can trust it through a CA file.
KeyAndCertificate MakeSelfSignedCertificate() {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"), &EVP_PKEY_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), &X509_free);
  if (!key || !cert) throw std::runtime_error("test server: cannot create a key/certificate");
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24L * 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  for (const auto& [nid, value] : {std::pair{NID_subject_alt_name, "IP:127.0.0.1"},
                                   std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
    X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    if (extension == nullptr) throw std::runtime_error("test server: bad certificate extension");
    X509_add_ext(cert.get(), extension, -1);
    X509_EXTENSION_free(extension);
  }
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) {
    throw std::runtime_error("test server: cannot sign the certificate");
  }
  std::unique_ptr<BIO, decltype(&BIO_free)> key_bio(BIO_new(BIO_s_mem()), &BIO_free);
  std::unique_ptr<BIO, decltype(&BIO_free)> cert_bio(BIO_new(BIO_s_mem()), &BIO_free);
  PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  PEM_write_bio_X509(cert_bio.get(), cert.get());
  return {BioText(key_bio.get()), BioText(cert_bio.get())};
}

}  // namespace

std::optional<std::string> RecordedRequest::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) return value;
  }
  return std::nullopt;
}

ScriptedResponse ScriptedResponse::Text(int status, std::string body, TestHeaders headers) {
  ScriptedResponse response;
  response.status = status;
  response.headers = std::move(headers);
  if (!body.empty()) response.chunks.push_back(std::move(body));
  return response;
}

struct TestHttpServer::Impl {
  struct Connection {
    explicit Connection(tcp::socket s) : socket(std::move(s)) {}
    tcp::socket socket;
    bool open = true;    // guarded by Impl::mutex, so Stop() never touches a closed descriptor
    bool reset = false;  // close with an RST instead of a FIN (set by its own thread only)
  };

  Handler handler;
  Options options;
  net::io_context io;
  tcp::acceptor acceptor{io};
  std::optional<net::ssl::context> tls;
  std::string certificate_pem;
  uint16_t port = 0;
  std::thread io_thread;

  mutable std::mutex mutex;
  mutable std::condition_variable changed;
  bool stopping = false;
  size_t accepted = 0;
  std::vector<RecordedRequest> requests;
  std::vector<std::shared_ptr<Connection>> connections;
  std::vector<std::thread> threads;

  void Accept() {
    acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec) return;  // the acceptor was closed by Stop()
      std::lock_guard<std::mutex> lock(mutex);
      if (stopping) return;
      const size_t index = ++accepted;
      auto connection = std::make_shared<Connection>(std::move(socket));
      connections.push_back(connection);
      threads.emplace_back([this, connection, index] { Serve(*connection, index); });
      Accept();
    });
  }

  void Serve(Connection& connection, size_t index) {
    beast::error_code ec;
    connection.socket.set_option(tcp::no_delay(true), ec);  // each chunk leaves at once
    if (tls) {
      net::ssl::stream<tcp::socket&> stream(connection.socket, *tls);
      stream.handshake(net::ssl::stream_base::server, ec);
      if (!ec) Exchange(stream, connection, index);
    } else {
      Exchange(connection.socket, connection, index);
    }
    std::lock_guard<std::mutex> lock(mutex);
    if (connection.open) {
      if (connection.reset) {
        // SO_LINGER 0 turns close() into an RST; a shutdown() first would send a FIN.
        connection.socket.set_option(net::socket_base::linger(true, 0), ec);
      } else {
        connection.socket.shutdown(tcp::socket::shutdown_both, ec);
      }
      connection.socket.close(ec);
      connection.open = false;
    }
  }

  template <class Stream>
  void Exchange(Stream& stream, Connection& connection, size_t index) {
    beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(kMaxRequestBody);
      beast::error_code ec;
      http::read(stream, buffer, parser, ec);
      if (ec) return;
      const auto& message = parser.get();
      RecordedRequest request;
      request.method = std::string(message.method_string());
      request.target = std::string(message.target());
      for (const auto& field : message) {
        request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
      }
      request.body = message.body();
      request.connection = index;
      const bool client_keeps_alive = message.keep_alive();
      {
        std::lock_guard<std::mutex> lock(mutex);
        requests.push_back(request);
      }
      changed.notify_all();
      const ScriptedResponse response = handler ? handler(request) : ScriptedResponse{};
      if (!Respond(stream, connection, response, client_keeps_alive)) return;
    }
  }

  template <class Stream>
  static bool Write(Stream& stream, std::string_view data) {
    beast::error_code ec;
    net::write(stream, net::buffer(data.data(), data.size()), ec);
    return !ec;
  }

  /// Writes one scripted response; false when the connection must close afterwards.
  template <class Stream>
  bool Respond(Stream& stream, Connection& connection, const ScriptedResponse& response,
               bool client_keeps_alive) {
    using Fault = ScriptedResponse::Fault;
    using Framing = ScriptedResponse::Framing;
    if (response.raw) {
      Write(stream, *response.raw);
      return false;
    }
    if (response.fault == Fault::kCloseBeforeHead) return false;
    if (response.fault == Fault::kStallBeforeHead) {
      WaitForStop();
      return false;
    }
    if (response.head_delay.count() > 0 && !SleepFor(response.head_delay)) return false;

    const bool keep_alive =
        client_keeps_alive && !response.close_connection && response.framing != Framing::kClose;
    std::string head = "HTTP/1.1 " + std::to_string(response.status) + " " +
                       std::string(http::obsolete_reason(
                           http::int_to_status(static_cast<unsigned>(response.status)))) +
                       "\r\n";
    bool has_length = false;
    for (const auto& [name, value] : response.headers) {
      head.append(name).append(": ").append(value).append("\r\n");
      has_length = has_length || EqualsIgnoreCase(name, "content-length");
    }
    if (response.framing == Framing::kContentLength && !has_length) {
      size_t total = 0;
      for (const auto& chunk : response.chunks) total += chunk.size();
      head += "Content-Length: " + std::to_string(total) + "\r\n";
    }
    if (response.framing == Framing::kChunked) head += "Transfer-Encoding: chunked\r\n";
    if (!keep_alive) head += "Connection: close\r\n";
    head += "\r\n";
    if (!Write(stream, head)) return false;

    for (size_t i = 0; i <= response.chunks.size(); ++i) {
      if (i == response.fault_after_chunks) {
        if (response.fault == Fault::kCloseMidBody) return false;
        if (response.fault == Fault::kStallMidBody) {
          WaitForStop();
          return false;
        }
        if (response.fault == Fault::kResetMidBody) {
          connection.reset = true;
          return false;
        }
      }
      if (i == response.chunks.size()) break;
      if (i > 0 && response.chunk_delay.count() > 0 && !SleepFor(response.chunk_delay)) {
        return false;
      }
      if (response.before_chunk) response.before_chunk(i);
      const std::string& chunk = response.chunks[i];
      if (response.framing == Framing::kChunked) {
        if (chunk.empty()) continue;  // an empty HTTP chunk would end the body
        if (!Write(stream, Hex(chunk.size()) + "\r\n" + chunk + "\r\n")) return false;
      } else if (!Write(stream, chunk)) {
        return false;
      }
    }
    if (response.framing == Framing::kChunked && !Write(stream, std::string_view("0\r\n\r\n"))) {
      return false;
    }
    return keep_alive;
  }

  bool SleepFor(std::chrono::milliseconds duration) const {
    std::unique_lock<std::mutex> lock(mutex);
    return !changed.wait_for(lock, duration, [this] { return stopping; });
  }

  void WaitForStop() const {
    std::unique_lock<std::mutex> lock(mutex);
    changed.wait(lock, [this] { return stopping; });
  }
};

TestHttpServer::TestHttpServer(Handler handler) : TestHttpServer(std::move(handler), Options{}) {}

TestHttpServer::TestHttpServer(Handler handler, Options options) : impl_(std::make_unique<Impl>()) {
  impl_->handler = std::move(handler);
  impl_->options = options;
  if (options.tls) {
    const KeyAndCertificate pair = MakeSelfSignedCertificate();
    impl_->certificate_pem = pair.certificate_pem;
    impl_->tls.emplace(net::ssl::context::tls_server);
    impl_->tls->use_certificate_chain(net::buffer(pair.certificate_pem));
    impl_->tls->use_private_key(net::buffer(pair.key_pem), net::ssl::context::pem);
  }
  const tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(endpoint.protocol());
  impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  impl_->acceptor.bind(endpoint);
  impl_->acceptor.listen();
  impl_->port = impl_->acceptor.local_endpoint().port();
  impl_->Accept();
  impl_->io_thread = std::thread([this] { impl_->io.run(); });
}

TestHttpServer::~TestHttpServer() { Stop(); }

uint16_t TestHttpServer::Port() const { return impl_->port; }

std::string TestHttpServer::Url(std::string_view path) const {
  return std::string(impl_->tls ? "https" : "http") +
         "://127.0.0.1:" + std::to_string(impl_->port) + std::string(path);
}

const std::string& TestHttpServer::CertificatePem() const { return impl_->certificate_pem; }

size_t TestHttpServer::ConnectionsAccepted() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->accepted;
}

std::vector<RecordedRequest> TestHttpServer::Requests() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->requests;
}

bool TestHttpServer::WaitForRequests(size_t count, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(impl_->mutex);
  return impl_->changed.wait_for(lock, timeout, [&] { return impl_->requests.size() >= count; });
}

bool TestHttpServer::SleepFor(std::chrono::milliseconds duration) const {
  return impl_->SleepFor(duration);
}

bool TestHttpServer::Stopping() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->stopping;
}

void TestHttpServer::Stop() {
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->changed.notify_all();
  if (impl_->io_thread.joinable()) {
    net::post(impl_->io, [this] {
      beast::error_code ec;
      impl_->acceptor.close(ec);
    });
    impl_->io_thread.join();
  }
  std::vector<std::thread> threads;
  {
    // Wake connection threads blocked in a read or write; each closes its own socket.
    std::lock_guard<std::mutex> lock(impl_->mutex);
    for (const auto& connection : impl_->connections) {
      if (connection->open) ::shutdown(connection->socket.native_handle(), SHUT_RDWR);
    }
    threads.swap(impl_->threads);
  }
  for (auto& thread : threads) thread.join();
}

}  // namespace rg::testing
