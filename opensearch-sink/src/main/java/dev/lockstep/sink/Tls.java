package dev.lockstep.sink;

import dev.lockstep.sink.OpenSearchSinkConfig.TrustStoreType;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.KeyStoreException;
import java.security.UnrecoverableKeyException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.HostnameVerifier;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;
import org.apache.hc.client5.http.ssl.DefaultHostnameVerifier;
import org.apache.hc.client5.http.ssl.HttpClientHostnameVerifier;
import org.apache.hc.client5.http.ssl.NoopHostnameVerifier;
import org.apache.kafka.common.config.types.Password;

/**
 * HTTPS for the sink: the trust store (JKS, PKCS12 or PEM, else the JVM's default trust) and host name verification.
 * A certificate the trust store does not trust and a certificate for another host fail with exceptions of their own
 * ({@link UntrustedCertificateException}, {@link HostnameMismatchException}) that name the certificate, so validation
 * can say what is wrong and on which option.
 */
final class Tls {
    private static final Pattern PEM_CERTIFICATE = Pattern.compile(
            "-----BEGIN (?:X509 |TRUSTED )?CERTIFICATE-----(.*?)-----END (?:X509 |TRUSTED )?CERTIFICATE-----", Pattern.DOTALL);

    private Tls() {
    }

    /** Why a trust store cannot be used; {@link #problem} tells which option is to blame. */
    static final class TrustStoreException extends Exception {
        enum Problem {
            /** Missing, a folder, or not readable: fix the location. */
            UNREADABLE,
            /** Not in the configured format: fix the location or the type. */
            BAD_FORMAT,
            /** The password does not open it: fix the password. */
            WRONG_PASSWORD,
            /** Opens, but holds no certificate (for PKCS12 often: no password given). */
            NO_CERTIFICATES
        }

        final Problem problem;

        TrustStoreException(Problem problem, String message, Throwable cause) {
            super(message, cause);
            this.problem = problem;
        }
    }

    /** The server's certificate chain does not lead to a certificate the trust store holds (or it expired...). */
    static final class UntrustedCertificateException extends CertificateException {
        private static final long serialVersionUID = 1L;
        final String subject;
        final String issuer;
        final String trustSource;
        final String reason;

        UntrustedCertificateException(X509Certificate[] chain, String trustSource, CertificateException cause) {
            super(describe(chain, trustSource, cause), cause);
            X509Certificate leaf = chain == null || chain.length == 0 ? null : chain[0];
            this.subject = leaf == null ? "(none)" : leaf.getSubjectX500Principal().getName();
            this.issuer = leaf == null ? "(none)" : leaf.getIssuerX500Principal().getName();
            this.trustSource = trustSource;
            this.reason = reason(cause);
        }

        private static String describe(X509Certificate[] chain, String trustSource, CertificateException cause) {
            X509Certificate leaf = chain == null || chain.length == 0 ? null : chain[0];
            String who = leaf == null ? "the server's certificate"
                    : "the server's certificate (subject " + leaf.getSubjectX500Principal().getName() + ", issued by "
                            + leaf.getIssuerX500Principal().getName() + ")";
            return who + " is not trusted by " + trustSource + ": " + reason(cause);
        }

        private static String reason(Throwable cause) {
            for (Throwable t = cause; t != null; t = t.getCause()) {
                if (t instanceof CertificateExpiredException) {
                    return "a certificate of its chain has expired (" + t.getMessage() + ")";
                }
                if (t instanceof CertificateNotYetValidException) {
                    return "a certificate of its chain is not valid yet (" + t.getMessage() + ")";
                }
                if (t.getClass().getSimpleName().equals("SunCertPathBuilderException")) {
                    return "none of its certificates issued this certificate or its chain";
                }
            }
            return String.valueOf(cause.getMessage());
        }
    }

    /** The server's certificate is trusted but names other hosts than the URL's. */
    static final class HostnameMismatchException extends SSLPeerUnverifiedException {
        private static final long serialVersionUID = 1L;
        final String host;
        final List<String> names;

        HostnameMismatchException(String host, List<String> names, SSLException cause) {
            super("the server's certificate does not match the host name " + host + " (its names: "
                    + (names.isEmpty() ? "none" : String.join(", ", names)) + ")");
            initCause(cause);
            this.host = host;
            this.names = names;
        }
    }

    /** The SSL context for the sink's connections: the configured trust store, or the JVM's default trust. */
    static SSLContext sslContext(OpenSearchSinkConfig config) throws TrustStoreException {
        Path location = config.trustStoreLocation();
        KeyStore trustStore = null;
        String source = "the JVM's default trust store (connection.ssl.truststore.location is not set)";
        if (location != null) {
            trustStore = loadTrustStore(location, config.trustStoreType(), config.trustStorePassword());
            source = "the trust store " + location + " (" + config.trustStoreType() + ")";
        }
        try {
            TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            factory.init(trustStore);
            List<TrustManager> managers = new ArrayList<>();
            for (TrustManager manager : factory.getTrustManagers()) {
                managers.add(manager instanceof X509TrustManager x509 ? new DescribingTrustManager(x509, source) : manager);
            }
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, managers.toArray(TrustManager[]::new), null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JVM cannot set up TLS: " + e, e);
        }
    }

    /** Host name verification on: the certificate must name the URL's host (DNS or IP subject alternative name). */
    static HostnameVerifier hostnameVerifier(boolean verify) {
        return verify ? new DescribingHostnameVerifier() : NoopHostnameVerifier.INSTANCE;
    }

    /** Reads a trust store: JKS or PKCS12 with the password (if any), or every certificate in a PEM file. */
    static KeyStore loadTrustStore(Path location, TrustStoreType type, Password password) throws TrustStoreException {
        String what = "the trust store " + location + " (" + type + ")";
        byte[] bytes;
        try {
            if (Files.isDirectory(location)) {
                throw new TrustStoreException(TrustStoreException.Problem.UNREADABLE, "cannot read " + what + ": it is a folder", null);
            }
            bytes = Files.readAllBytes(location);
        } catch (NoSuchFileException e) {
            throw new TrustStoreException(TrustStoreException.Problem.UNREADABLE, "cannot read " + what + ": there is no such file"
                    + " (on this worker; every worker that runs the connector's tasks needs it)", e);
        } catch (AccessDeniedException e) {
            throw new TrustStoreException(TrustStoreException.Problem.UNREADABLE, "cannot read " + what
                    + ": permission denied for the worker's user", e);
        } catch (IOException e) {
            throw new TrustStoreException(TrustStoreException.Problem.UNREADABLE, "cannot read " + what + ": " + e, e);
        }
        KeyStore store = type == TrustStoreType.PEM ? fromPem(bytes, what) : fromKeyStore(bytes, type, password, what);
        int certificates = certificateCount(store);
        if (certificates == 0) {
            String hint = type == TrustStoreType.PKCS12 && password == null
                    ? ": a PKCS12 store usually encrypts its certificates, set connection.ssl.truststore.password"
                    : ": add the certificate of the CA that issued the nodes' certificates";
            throw new TrustStoreException(password == null && type == TrustStoreType.PKCS12
                    ? TrustStoreException.Problem.WRONG_PASSWORD : TrustStoreException.Problem.NO_CERTIFICATES,
                    what + " holds no certificate" + hint, null);
        }
        return store;
    }

    private static KeyStore fromKeyStore(byte[] bytes, TrustStoreType type, Password password, String what) throws TrustStoreException {
        try {
            KeyStore store = KeyStore.getInstance(type.name());
            store.load(new ByteArrayInputStream(bytes), password == null ? null : password.value().toCharArray());
            return store;
        } catch (IOException e) {
            if (causedBy(e, UnrecoverableKeyException.class)) {
                throw new TrustStoreException(TrustStoreException.Problem.WRONG_PASSWORD,
                        "cannot open " + what + ": the password is wrong (connection.ssl.truststore.password)", null);
            }
            String hint = looksLikePem(bytes) ? "; it looks like a PEM file: set connection.ssl.truststore.type=PEM" : "";
            throw new TrustStoreException(TrustStoreException.Problem.BAD_FORMAT, "cannot read " + what + " as " + type
                    + " (" + e.getMessage() + ")" + hint, e);
        } catch (GeneralSecurityException e) {
            throw new TrustStoreException(TrustStoreException.Problem.BAD_FORMAT, "cannot read " + what + " as " + type
                    + " (" + e.getMessage() + ")", e);
        }
    }

    private static KeyStore fromPem(byte[] bytes, String what) throws TrustStoreException {
        String text = new String(bytes, StandardCharsets.ISO_8859_1);
        Matcher m = PEM_CERTIFICATE.matcher(text);
        List<X509Certificate> certificates = new ArrayList<>();
        try {
            CertificateFactory factory = CertificateFactory.getInstance("X.509");
            while (m.find()) {
                byte[] der = Base64.getMimeDecoder().decode(m.group(1).trim());
                try (InputStream in = new ByteArrayInputStream(der)) {
                    certificates.add((X509Certificate) factory.generateCertificate(in));
                }
            }
        } catch (IllegalArgumentException | CertificateException | IOException e) {
            throw new TrustStoreException(TrustStoreException.Problem.BAD_FORMAT, "cannot read certificate " + (certificates.size() + 1)
                    + " of " + what + ": " + e.getMessage(), e);
        }
        if (certificates.isEmpty()) {
            String hint = text.contains("PRIVATE KEY-----") ? ": it holds a private key, but a trust store needs the CA's certificate"
                    : looksLikePem(bytes) ? "" : ": it does not look like PEM; for a JKS or PKCS12 file set connection.ssl.truststore.type";
            throw new TrustStoreException(TrustStoreException.Problem.BAD_FORMAT,
                    what + " holds no -----BEGIN CERTIFICATE----- block" + hint, null);
        }
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            for (int i = 0; i < certificates.size(); i++) {
                store.setCertificateEntry("pem-" + i, certificates.get(i));
            }
            return store;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot make an in-memory trust store: " + e, e);
        }
    }

    /** Trusted certificates (and the leaf certificates of key entries, which the JDK's PKIX trust manager uses too). */
    private static int certificateCount(KeyStore store) {
        try {
            int n = 0;
            for (String alias : Collections.list(store.aliases())) {
                if (store.isCertificateEntry(alias) || store.getCertificateChain(alias) != null) {
                    n++;
                }
            }
            return n;
        } catch (KeyStoreException e) {
            return 0;
        }
    }

    private static boolean looksLikePem(byte[] bytes) {
        return new String(bytes, 0, Math.min(bytes.length, 4096), StandardCharsets.ISO_8859_1).contains("-----BEGIN ");
    }

    private static boolean causedBy(Throwable e, Class<? extends Throwable> type) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return true;
            }
        }
        return false;
    }

    /** The certificate's subject alternative names as DNS:x / IP:y, for messages. */
    static List<String> subjectAlternativeNames(X509Certificate certificate) {
        List<String> names = new ArrayList<>();
        try {
            Collection<List<?>> sans = certificate.getSubjectAlternativeNames();
            if (sans != null) {
                for (List<?> san : sans) {
                    Object kind = san.get(0);
                    if (Integer.valueOf(2).equals(kind)) {
                        names.add("DNS:" + san.get(1));
                    } else if (Integer.valueOf(7).equals(kind)) {
                        names.add("IP:" + san.get(1));
                    }
                }
            }
        } catch (CertificateParsingException e) {
            // no names to show
        }
        if (names.isEmpty()) {
            names.add("subject " + certificate.getSubjectX500Principal().getName());
        }
        return names;
    }

    /** httpclient's verifier (RFC 2818 / 6125), failing with a {@link HostnameMismatchException} that lists the names. */
    static final class DescribingHostnameVerifier implements HttpClientHostnameVerifier {
        private final DefaultHostnameVerifier delegate = new DefaultHostnameVerifier();

        @Override
        public void verify(String host, X509Certificate certificate) throws SSLException {
            try {
                delegate.verify(host, certificate);
            } catch (SSLException e) {
                throw new HostnameMismatchException(host, subjectAlternativeNames(certificate), e);
            }
        }

        @Override
        public boolean verify(String host, SSLSession session) {
            return delegate.verify(host, session);
        }
    }

    /**
     * Delegates to the JDK's trust manager and, when it refuses the server's chain, says which certificate and which
     * trust store. The TLS strategy checks host names itself (not the JDK), so every refusal here is about trust.
     */
    static final class DescribingTrustManager extends X509ExtendedTrustManager {
        private final X509TrustManager delegate;
        private final String source;

        DescribingTrustManager(X509TrustManager delegate, String source) {
            this.delegate = delegate;
            this.source = source;
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
            try {
                if (delegate instanceof X509ExtendedTrustManager extended) {
                    extended.checkServerTrusted(chain, authType, engine);
                } else {
                    delegate.checkServerTrusted(chain, authType);
                }
            } catch (CertificateException e) {
                throw new UntrustedCertificateException(chain, source, e);
            }
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            try {
                if (delegate instanceof X509ExtendedTrustManager extended) {
                    extended.checkServerTrusted(chain, authType, socket);
                } else {
                    delegate.checkServerTrusted(chain, authType);
                }
            } catch (CertificateException e) {
                throw new UntrustedCertificateException(chain, source, e);
            }
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            try {
                delegate.checkServerTrusted(chain, authType);
            } catch (CertificateException e) {
                throw new UntrustedCertificateException(chain, source, e);
            }
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
            if (delegate instanceof X509ExtendedTrustManager extended) {
                extended.checkClientTrusted(chain, authType, engine);
            } else {
                delegate.checkClientTrusted(chain, authType);
            }
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            if (delegate instanceof X509ExtendedTrustManager extended) {
                extended.checkClientTrusted(chain, authType, socket);
            } else {
                delegate.checkClientTrusted(chain, authType);
            }
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            delegate.checkClientTrusted(chain, authType);
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return delegate.getAcceptedIssuers();
        }
    }
}
