# The exact jars gates, prune, reuse-proof and auth-check run with: the runtime closure of the
# //DEPS in lib/ as Maven resolves it for tests/pom.xml. hash is the SRI sha256 of the jar; each one
# becomes a fixed-output fetch, so a changed or substituted jar fails the build.
# VersionsAgreeTest and NixTest fail when this list and Maven (or //DEPS) disagree.
[
  { groupId = "com.fasterxml.jackson.core"; artifactId = "jackson-annotations"; version = "2.20"; hash = "sha256-lZov+y1ZFDb1Hxg8alIfyJNHkS9xG/DK4AjN8EXZUxk="; }
  { groupId = "com.fasterxml.jackson.core"; artifactId = "jackson-core"; version = "2.20.1"; hash = "sha256-/6tNlX2qJ5bPJMtm0LeKcJDxvL4Xw6RXjwmv+q8TcIk="; }
  { groupId = "com.fasterxml.jackson.core"; artifactId = "jackson-databind"; version = "2.20.1"; hash = "sha256-NLvrRSb/9PhWWxIQa/haavy66FiWbUibVCFKxGsuJug="; }
  { groupId = "com.github.docker-java"; artifactId = "docker-java-api"; version = "3.7.1"; hash = "sha256-2tFT1ISx9O8Ani/brSfgeusxkRItpSuJhVB6xQQwAIE="; }
  { groupId = "com.github.docker-java"; artifactId = "docker-java-core"; version = "3.7.1"; hash = "sha256-gsbw5lN7S2T2lM1htTkdfeTIBUlWrQ4Bv/ofWVDLt2o="; }
  { groupId = "com.github.docker-java"; artifactId = "docker-java-transport"; version = "3.7.1"; hash = "sha256-0V7sgDS/D5LCpIypFyaRgEBIEVyW3IUycvlIb6JpXDw="; }
  { groupId = "com.github.docker-java"; artifactId = "docker-java-transport-zerodep"; version = "3.7.1"; hash = "sha256-uJvbF1QWAyNZf56jKn/npKOqj1s7Q7iOjXH/87JnqyE="; }
  { groupId = "com.google.errorprone"; artifactId = "error_prone_annotations"; version = "2.36.0"; hash = "sha256-d0QOJwsLyaJJkDxaB2w2pyLEiGyk9CZ18pA6HFPtYaU="; }
  { groupId = "com.google.guava"; artifactId = "failureaccess"; version = "1.0.3"; hash = "sha256-y/w5BrGbj1XdfP1t/gqkUy6DQlDX8IC9jSEaPiRrWcs="; }
  { groupId = "com.google.guava"; artifactId = "guava"; version = "33.4.8-jre"; hash = "sha256-89f1f2f9Yi9NRo391pKzpeOQkkbCgBesMmNAXw/mF+0="; }
  { groupId = "com.google.guava"; artifactId = "listenablefuture"; version = "9999.0-empty-to-avoid-conflict-with-guava"; hash = "sha256-s3KgN9QjCqV/vv/e8w/WEj+cDC24XQrO0AyRuXTzP5k="; }
  { groupId = "com.google.j2objc"; artifactId = "j2objc-annotations"; version = "3.0.0"; hash = "sha256-iCQVc0Z93KRP/U10qgTCu/0Rv3wX4MNCyUyd56cKfGQ="; }
  { groupId = "commons-codec"; artifactId = "commons-codec"; version = "1.19.0"; hash = "sha256-XDiB5PVWhV6cUykn7gyd/elMxmdg1YBcAxpZiHBwr18="; }
  { groupId = "commons-io"; artifactId = "commons-io"; version = "2.21.0"; hash = "sha256-fWQ6Kv6osFi3YqpvuQ5bJW9scpc5+LN4TDNw3cYJ6I0="; }
  { groupId = "info.picocli"; artifactId = "picocli"; version = "4.7.7"; hash = "sha256-+G4w//0Q0rE7jKqNSyN6fuYfL/zPWxlB3nGLdl0jW/g="; }
  { groupId = "net.java.dev.jna"; artifactId = "jna"; version = "5.18.1"; hash = "sha256-JgxLHiKx254RDuRBxPE84RX4QfpIxB14dQmGIUs5VVc="; }
  { groupId = "org.apache.commons"; artifactId = "commons-compress"; version = "1.28.0"; hash = "sha256-4VIpRSGEVvNkmjm8Sv1wzkvUZiIVGdun03jyFBpGQso="; }
  { groupId = "org.apache.commons"; artifactId = "commons-lang3"; version = "3.19.0"; hash = "sha256-MnM6tLyQtFtj63JnfYhpYQA/1O0RPgexAo+Yd8sqxzU="; }
  { groupId = "org.bouncycastle"; artifactId = "bcpkix-jdk18on"; version = "1.82"; hash = "sha256-vccj4gg0gyrGrxNstbX/BeQ7cdT6FRzGUQ2SEu4IbmM="; }
  { groupId = "org.bouncycastle"; artifactId = "bcprov-jdk18on"; version = "1.82"; hash = "sha256-FM3i/fqoiQSAqOW2es7vDJD5ZoLB4jwTO6/cngsyVc4="; }
  { groupId = "org.bouncycastle"; artifactId = "bcutil-jdk18on"; version = "1.82"; hash = "sha256-RCBpGVitHAuidabW2KYxetvb3JJ3BVtqcqqJyIzajH0="; }
  { groupId = "org.jspecify"; artifactId = "jspecify"; version = "1.0.0"; hash = "sha256-H61ua+dVd4Hk0zcp1Jrhzcj92m/kd7sMxozjUer9+6s="; }
  { groupId = "org.slf4j"; artifactId = "slf4j-api"; version = "2.0.17"; hash = "sha256-e3UdlSBhlU1av+1xgcH2RdM2CRtnmJFZHWMynGIuuDI="; }
  { groupId = "org.slf4j"; artifactId = "slf4j-nop"; version = "2.0.17"; hash = "sha256-Nxb4NknsZhYaLt79T0nfNNHdHFHNz5QZlsaYcmDwqCk="; }
]
