/// The signature is wrong: no transaction parameter.
pub fn migrate() -> Result<(), strata::CodeError> {
    Ok(())
}
