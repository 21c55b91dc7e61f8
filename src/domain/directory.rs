//! Areas, organisations and users (SPEC §2, §4).

use super::code_enum;

code_enum!(
    /// What a user does here (SPEC §2).
    Role {
        Reporter => ("reporter", "Reporter"),
        OrgLead => ("org_lead", "Organisation CD lead"),
        Cdao => ("cdao", "Lead CDAO team"),
        Member => ("member", "LIN member"),
        Admin => ("admin", "Service administrator"),
        Auditor => ("auditor", "Auditor"),
        Analyst => ("analyst", "National analyst"),
    }
);

impl Role {
    /// Roles that must use a second factor at sign-in (SPEC §10).
    pub fn requires_mfa(self) -> bool {
        matches!(
            self,
            Role::Cdao | Role::Member | Role::Admin | Role::Auditor
        )
    }

    /// The kinds of organisation a user of this role belongs to; empty when none.
    pub fn organisation_kinds(self) -> &'static [OrgKind] {
        match self {
            Role::Reporter | Role::OrgLead => &[OrgKind::Provider],
            Role::Member => &[OrgKind::Member],
            Role::Cdao => &[OrgKind::Nhse],
            Role::Admin | Role::Auditor | Role::Analyst => &[],
        }
    }
}

code_enum!(
    OrgKind {
        Provider => ("provider", "Provider"),
        Member => ("member", "LIN member organisation"),
        Nhse => ("nhse", "NHS England"),
    }
);

code_enum!(
    Sector {
        CommunityPharmacy => ("community_pharmacy", "Community pharmacy"),
        GpPractice => ("gp_practice", "GP practice"),
        NhsHospital => ("nhs_hospital", "NHS hospital"),
        IndependentHospital => ("independent_hospital", "Independent hospital"),
        CareHome => ("care_home", "Care home"),
        DentalPractice => ("dental_practice", "Dental practice"),
        Hospice => ("hospice", "Hospice"),
        PrisonHealthcare => ("prison_healthcare", "Prison healthcare"),
        AmbulanceService => ("ambulance_service", "Ambulance service"),
        OnlineProvider => ("online_provider", "Online provider"),
        SubstanceMisuseService => ("substance_misuse_service", "Substance misuse service"),
        Veterinary => ("veterinary", "Veterinary"),
        Police => ("police", "Police"),
        Regulator => ("regulator", "Regulator"),
        Cqc => ("cqc", "Care Quality Commission"),
        CounterFraud => ("counter_fraud", "Counter fraud"),
        Icb => ("icb", "Integrated care board"),
        LocalAuthority => ("local_authority", "Local authority"),
        NhsEngland => ("nhs_england", "NHS England"),
        Other => ("other", "Other"),
    }
);

impl Sector {
    /// Whether an organisation of `kind` may be in this sector.
    pub fn fits(self, kind: OrgKind) -> bool {
        use Sector::*;
        match kind {
            OrgKind::Provider => matches!(
                self,
                CommunityPharmacy
                    | GpPractice
                    | NhsHospital
                    | IndependentHospital
                    | CareHome
                    | DentalPractice
                    | Hospice
                    | PrisonHealthcare
                    | AmbulanceService
                    | OnlineProvider
                    | SubstanceMisuseService
                    | Veterinary
                    | Other
            ),
            OrgKind::Member => matches!(
                self,
                Police | Regulator | Cqc | CounterFraud | Icb | LocalAuthority | Other
            ),
            OrgKind::Nhse => matches!(self, NhsEngland),
        }
    }
}

code_enum!(
    UserStatus {
        Invited => ("invited", "Invited"),
        Active => ("active", "Active"),
        Disabled => ("disabled", "Disabled"),
    }
);

/// An ODS code: letters and digits, 3 to 10 characters, uppercased.
pub fn parse_ods_code(value: &str) -> Option<String> {
    let v = value.trim().to_uppercase();
    let ok = (3..=10).contains(&v.len()) && v.chars().all(|c| c.is_ascii_alphanumeric());
    ok.then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.code()), Some(*r));
        }
        assert_eq!(Sector::parse("icb"), Some(Sector::Icb));
        assert_eq!(Sector::parse("ICB"), None);
    }

    #[test]
    fn sectors_fit_their_kinds() {
        assert!(Sector::CommunityPharmacy.fits(OrgKind::Provider));
        assert!(!Sector::Police.fits(OrgKind::Provider));
        assert!(Sector::Police.fits(OrgKind::Member));
        assert!(Sector::NhsEngland.fits(OrgKind::Nhse));
        assert!(!Sector::Other.fits(OrgKind::Nhse));
    }

    #[test]
    fn ods_codes() {
        assert_eq!(parse_ods_code(" fa123 ").as_deref(), Some("FA123"));
        assert_eq!(parse_ods_code("F-1"), None);
        assert_eq!(parse_ods_code("AB"), None);
    }
}
