//! htpasswd files as go-htpasswd reads them: `user:hash` lines, the hash
//! bcrypt (`$2a$`, `$2b$`, `$2y$`), Apache MD5 (`$apr1$salt$...`), SHA-1
//! (`{SHA}` and base64) or the password itself. Blank lines and `#`
//! comments are skipped.

use base64::Engine;
use md5::{Digest, Md5};
use sha1::Sha1;

/// How a password is stored.
enum Hash {
    Bcrypt(String),
    Apr1 { salt: String, full: String },
    Sha1(Vec<u8>),
    Plain(String),
}

/// The users of an htpasswd text.
pub(crate) struct Users(Vec<(String, Hash)>);

impl Users {
    /// Reads htpasswd lines.
    pub(crate) fn parse(text: &str) -> Result<Users, String> {
        let mut users = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (user, hash) = line
                .split_once(':')
                .ok_or_else(|| format!("line {}: not a user:password line", n + 1))?;
            let hash =
                if hash.starts_with("$2a$") || hash.starts_with("$2b$") || hash.starts_with("$2y$")
                {
                    Hash::Bcrypt(hash.to_string())
                } else if let Some(rest) = hash.strip_prefix("$apr1$") {
                    let salt = rest.split('$').next().unwrap_or_default().to_string();
                    Hash::Apr1 {
                        salt,
                        full: hash.to_string(),
                    }
                } else if let Some(encoded) = hash.strip_prefix("{SHA}") {
                    let digest = base64::engine::general_purpose::STANDARD
                        .decode(encoded)
                        .map_err(|e| format!("line {}: bad {{SHA}} hash: {e}", n + 1))?;
                    Hash::Sha1(digest)
                } else {
                    Hash::Plain(hash.to_string())
                };
            users.push((user.to_string(), hash));
        }
        Ok(Users(users))
    }

    /// Whether `password` is one of `user`'s.
    pub(crate) fn verify(&self, user: &str, password: &str) -> bool {
        self.0
            .iter()
            .filter(|(u, _)| u == user)
            .any(|(_, hash)| match hash {
                Hash::Bcrypt(h) => bcrypt::verify(password, h).unwrap_or(false),
                Hash::Apr1 { salt, full } => {
                    equal(apr1(password, salt).as_bytes(), full.as_bytes())
                }
                Hash::Sha1(digest) => equal(&Sha1::digest(password.as_bytes()), digest),
                Hash::Plain(p) => equal(password.as_bytes(), p.as_bytes()),
            })
    }
}

/// Compares without stopping at the first difference.
fn equal(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Apache's MD5 crypt (`$apr1$`): the FreeBSD MD5 crypt algorithm with
/// Apache's magic string.
fn apr1(password: &str, salt: &str) -> String {
    const MAGIC: &[u8] = b"$apr1$";
    const ITOA64: &[u8] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let (pw, salt) = (password.as_bytes(), &salt.as_bytes()[..salt.len().min(8)]);
    let alternate = Md5::new()
        .chain_update(pw)
        .chain_update(salt)
        .chain_update(pw)
        .finalize();
    let mut ctx = Md5::new()
        .chain_update(pw)
        .chain_update(MAGIC)
        .chain_update(salt);
    let mut left = pw.len();
    while left > 0 {
        ctx.update(&alternate[..left.min(16)]);
        left = left.saturating_sub(16);
    }
    let mut i = pw.len();
    while i > 0 {
        if i & 1 == 1 {
            ctx.update([0u8]);
        } else {
            ctx.update(&pw[..1]);
        }
        i >>= 1;
    }
    let mut digest = ctx.finalize();
    for round in 0..1000 {
        let mut next = Md5::new();
        if round & 1 == 1 {
            next.update(pw);
        } else {
            next.update(digest);
        }
        if round % 3 != 0 {
            next.update(salt);
        }
        if round % 7 != 0 {
            next.update(pw);
        }
        if round & 1 == 1 {
            next.update(digest);
        } else {
            next.update(pw);
        }
        digest = next.finalize();
    }
    let mut out = String::with_capacity(37);
    out.push_str("$apr1$");
    out.push_str(std::str::from_utf8(salt).unwrap_or_default());
    out.push('$');
    let mut push = |mut v: u32, n: usize| {
        for _ in 0..n {
            out.push(ITOA64[(v & 0x3f) as usize] as char);
            v >>= 6;
        }
    };
    for (a, b, c) in [(0, 6, 12), (1, 7, 13), (2, 8, 14), (3, 9, 15), (4, 10, 5)] {
        push(
            (u32::from(digest[a]) << 16) | (u32::from(digest[b]) << 8) | u32::from(digest[c]),
            4,
        );
    }
    push(u32::from(digest[11]), 2);
    out
}

#[cfg(test)]
mod tests {
    use super::Users;

    #[test]
    fn every_hash_go_htpasswd_reads_verifies() {
        // Made with `openssl passwd -apr1 -salt 6dUtBoq hunter2`,
        // `printf sha-pass | openssl dgst -sha1 -binary | base64` and
        // Python's bcrypt (rounds 5); `$2y$` is `$2b$` under Apache's name.
        let users = Users::parse(
            "# users\n\
             ann:$2b$05$xaV.p.mN90iSuRvT7xePmeJRxAIGhdwlzgcPIW7At1dE.qN0p8Zvq\n\
             amy:$2a$05$F.7ncyeW5VlUQEIxrotdRuVby4sNj5Wt1xI0WLp5Y9G.CC7r7zHMe\n\
             ada:$2y$05$xaV.p.mN90iSuRvT7xePmeJRxAIGhdwlzgcPIW7At1dE.qN0p8Zvq\n\
             bob:$apr1$6dUtBoq$ebqYfMUgN01d8wQv2qJa3/\n\
             sam:{SHA}xO2etOilyqtV8o1RvvnmkeBx7QI=\n\
             \n\
             pat:plain\n",
        )
        .unwrap();
        for (user, password) in [
            ("ann", "secret"),
            ("amy", "secret"),
            ("ada", "secret"),
            ("bob", "hunter2"),
            ("sam", "sha-pass"),
            ("pat", "plain"),
        ] {
            assert!(users.verify(user, password), "{user}");
            assert!(!users.verify(user, "wrong"), "{user}");
        }
        assert!(!users.verify("nobody", "secret"));
    }
}
